"""Local target: train in this process, or emit a Kubernetes Job for Minikube.

``run`` calls ``ml.train.train`` against the stack's tracking URI (override it, e.g. with a
``kubectl port-forward`` address, when the in-cluster Service name does not resolve here).

``job_manifest`` builds a ``batch/v1`` Job that runs the same command in the training image in
the stack's namespace, hardened the way the platform's policies expect: non-root user, read-only
root filesystem (``/tmp`` and ``$HOME`` on ``emptyDir`` volumes, because scikit-learn, MLflow
and matplotlib caches write there), no privilege escalation, all capabilities dropped,
``RuntimeDefault`` seccomp, no service-account token, resource requests and limits, a deadline
and a TTL so finished Jobs are cleaned up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.launch.config import LaunchConfig
from ml.launch.outputs import REQUIRED_KEYS, StackOutputs

__all__ = ["job_manifest", "run", "write_manifest"]

RUN_AS_USER = 10001


def run(outputs: StackOutputs, config: LaunchConfig, *, tracking_uri: str | None = None) -> Any:
    """Train in-process; returns ``ml.train.TrainResult``."""
    from ml.train import train

    if tracking_uri is None:
        outputs.require(*REQUIRED_KEYS["local"], purpose="local training")
    return train(
        config.task,
        tracking_uri or outputs.mlflow_tracking_uri,
        config.model_name,
        rows=config.rows,
        seed=config.seed,
    )


def job_manifest(outputs: StackOutputs, config: LaunchConfig) -> dict[str, Any]:
    """The Kubernetes Job as a plain dict (``yaml.safe_dump`` it or apply it)."""
    outputs.require(*REQUIRED_KEYS["local-manifest"], purpose="a Kubernetes training Job")
    labels = {
        "app.kubernetes.io/name": "mlops-training",
        "app.kubernetes.io/component": "training",
        "app.kubernetes.io/managed-by": "ml.launch",
        "mlops/task": config.task,
    }
    container = {
        "name": "train",
        "image": outputs.training_image_uri,
        "imagePullPolicy": "IfNotPresent",
        "command": config.train_argv(),
        "env": [
            {"name": "MLFLOW_TRACKING_URI", "value": outputs.mlflow_tracking_uri},
            {"name": "MLFLOW_EXPERIMENT_NAME", "value": config.model_name},
            {"name": "HOME", "value": "/home/train"},
            {"name": "TMPDIR", "value": "/tmp"},
        ],
        "resources": {
            "requests": {"cpu": config.cpu_request, "memory": config.memory_request},
            "limits": {"cpu": config.cpu_limit, "memory": config.memory_limit},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [
            {"name": "tmp", "mountPath": "/tmp"},
            {"name": "home", "mountPath": "/home/train"},
        ],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": config.job_name, "namespace": outputs.namespace, "labels": labels},
        "spec": {
            "backoffLimit": 1,
            "activeDeadlineSeconds": config.max_run_seconds,
            "ttlSecondsAfterFinished": 86_400,
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS_USER,
                        "runAsGroup": RUN_AS_USER,
                        "fsGroup": RUN_AS_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [
                        {"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
                        {"name": "home", "emptyDir": {"sizeLimit": "256Mi"}},
                    ],
                },
            },
        },
    }


def write_manifest(manifest: dict[str, Any], path: str | Path) -> Path:
    """Write the manifest as YAML (``kubectl apply -f <path>``)."""
    import yaml

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path
