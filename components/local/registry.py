"""Registry on Minikube: none in the cluster. Images are built straight into Minikube's image
store (``eval $(minikube docker-env)``; pods use ``imagePullPolicy: Never``), so nothing pulls
from a registry; an in-cluster ``registry:2`` would be a Deployment, a volume and an open port
that nothing uses (issue 11, defect 7). Images are named ``mlops-platform/<repo>:<content tag>``.

To share images built elsewhere (CI, another laptop), enable Minikube's own ``registry``
addon and push to it; that is outside this program.
"""

from __future__ import annotations

from typing import Any

#: Repository prefix of the images in Minikube's image store (no registry host: never pulled).
LOCAL_PREFIX = "mlops-platform"


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    return {
        "registry_url": "",
        "repository_urls": {repo: f"{LOCAL_PREFIX}/{repo}" for repo in settings.repositories},
        "registry_id": "",
    }
