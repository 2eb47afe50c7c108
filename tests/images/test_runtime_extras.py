"""Each target's images can talk to that target's MLflow: in the locked environment of each extra
set the Dockerfiles install (``EXTRAS``, as ContainerImages passes them), MLflow's own store
registry resolves the target's tracking and registry URI scheme — the SageMaker MLflow tracking
server ARN on aws, ``azureml://`` on azure — and the cloud SDK the stores use imports.

The oracle is MLflow itself (``_get_store`` raises UnsupportedModelRegistryStoreURIException for
a scheme no installed plugin registers) and the plugins' entry points; the negative control
shows the plain ``serving`` environment refusing both URIs, so the test fails if a runtime extra
stops carrying its plugin. Same install as the Dockerfiles: ``uv export --frozen`` with hashes
into a clean virtual environment, run from outside the checkout.
"""

from __future__ import annotations

import json

import pytest

from components.images import IMAGE_EXTRAS, TARGET_EXTRAS
from tests.conftest import ROOT
from tests.images.test_dependency_groups import FORBIDDEN, _run, _uv

SAGEMAKER_ARN = "arn:aws:sagemaker:eu-west-1:111122223333:mlflow-tracking-server/prod-training-mlflow"
AZUREML_URI = (
    "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/00000000-0000-0000-0000-000000000000"
    "/resourceGroups/rg-mlops/providers/Microsoft.MachineLearningServices/workspaces/mlw-prod"
)
#: runtime extra -> (URI its images must resolve, modules that must import)
RUNTIMES = {
    "aws-runtime": (SAGEMAKER_ARN, ("boto3", "sagemaker_mlflow")),
    "azure-runtime": (AZUREML_URI, ("azure.identity", "azureml.mlflow")),
}

PROBE = r"""
import importlib, importlib.util, json, os, sys
# Offline: no credentials are looked up while a store is built; fake ones keep SDKs quiet.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="eu-west-1")
from mlflow.exceptions import MlflowException
from mlflow.tracking._model_registry.utils import _get_store as registry_store
from mlflow.tracking._tracking_service.utils import _get_store as tracking_store

uris, modules, forbidden = json.loads(sys.argv[1])
out = {"imports": {}, "stores": {}, "forbidden": [m for m in forbidden if importlib.util.find_spec(m)]}
for module in modules:
    importlib.import_module(module)
    out["imports"][module] = True
for uri in uris:
    result = {}
    for kind, get in (("registry", registry_store), ("tracking", tracking_store)):
        try:
            store = get(uri)
            result[kind] = type(store).__module__ + "." + type(store).__name__
        except MlflowException as exc:
            result[kind] = "error:" + type(exc).__name__ + ":" + str(exc).splitlines()[0]
    out["stores"][uri] = result
print("RESULT " + json.dumps(out))
"""


def _environment(tmp_path_factory, extras: tuple[str, ...]):
    uv = _uv()
    work = tmp_path_factory.mktemp("venv-" + "-".join(extras))
    venv, requirements = work / "venv", work / "requirements.txt"
    python = venv / "bin" / "python"
    flags = [word for extra in extras for word in ("--extra", extra)]
    steps = [
        [uv, "export", "--frozen", "--no-default-groups", *flags, "--no-emit-project",
         "--format", "requirements-txt", "--output-file", str(requirements)],
        [uv, "venv", "--quiet", "--python", "3.11", str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(python), "--require-hashes", "-r", str(requirements)],
    ]
    for cmd in steps:
        result = _run(cmd, cwd=ROOT)
        assert result.returncode == 0, f"{' '.join(cmd)}\n{result.stderr[-3000:]}"
    return python, work


def _probe(python, work, uris, modules) -> dict:
    result = _run([str(python), "-c", PROBE, json.dumps([list(uris), list(modules), list(FORBIDDEN)])], cwd=work, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


CASES = [(image, target) for image in ("serving", "training") for target in ("aws", "azure")]


@pytest.mark.parametrize(("image", "target"), CASES, ids=[f"{i}-{t}" for i, t in CASES])
def test_target_images_resolve_their_mlflow_uri_and_import_their_sdk(image, target, tmp_path_factory):
    extras = (IMAGE_EXTRAS[image], *TARGET_EXTRAS[target])
    (runtime,) = TARGET_EXTRAS[target]
    uri, modules = RUNTIMES[runtime]
    python, work = _environment(tmp_path_factory, extras)
    out = _probe(python, work, [uri], modules)
    assert out["forbidden"] == [], f"{extras}: Pulumi SDKs in an image environment: {out['forbidden']}"
    stores = out["stores"][uri]
    for kind in ("registry", "tracking"):
        assert not stores[kind].startswith("error:"), f"{extras}: {kind} store for {uri}: {stores[kind]}"
    assert all(out["imports"][m] for m in modules)


def test_without_a_runtime_extra_mlflow_refuses_both_cloud_uris(tmp_path_factory):
    """The negative control: the plain serving environment (what every image had before the
    runtime extras) cannot resolve either URI, so the test above checks the extras themselves."""
    python, work = _environment(tmp_path_factory, (IMAGE_EXTRAS["serving"],))
    out = _probe(python, work, [SAGEMAKER_ARN, AZUREML_URI], [])
    for uri in (SAGEMAKER_ARN, AZUREML_URI):
        registry = out["stores"][uri]["registry"]
        assert registry.startswith("error:UnsupportedModelRegistryStoreURIException"), (uri, registry)
