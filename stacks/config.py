"""Stack configuration: one validated object, read once from ``pulumi.Config``.

Every key is declared in Pulumi.yaml (type, default, description) and here (type, constraint).
A bad value stops the program with one line naming the key, the value and what is allowed,
raised as ``pulumi.RunError`` so ``pulumi preview`` prints that line and no stack trace.
Cloud-only keys live in ``config_aws.py`` / ``config_azure.py`` and are mixed in below.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, TypedDict, cast

import pulumi
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

from components.targets import RUNTIMES, missing_extra

PROJECT = "mlops-platform"



class CloudBlocks(TypedDict, total=False):
    """The per-target options block of a component's arguments (only the stack's target's is
    set); the component validates its contents (components/spec.py)."""

    aws: Any
    azure: Any

class ConfigError(pulumi.RunError):
    """Bad stack configuration: one line, naming the key, the value and what is allowed."""


class _Base(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, strict=False
    )


DnsLabel = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=63)]
TagValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/=+@-]{0,62}$")]
#: The Kubernetes quantity grammar (k8s.io/apimachinery/pkg/api/resource/quantity.go), unsigned:
#: ``<number><suffix>``, suffix a binary SI (Ki..Ei), a decimal SI (m, "", k, M, G, T, P, E) or a
#: decimal exponent (``e3``, ``E-2``).
QUANTITY = re.compile(r"^(?P<num>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$")
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
QUANTITY_HINT = "a Kubernetes quantity such as 250m, 1, 512Mi or 1Gi"


def parse_quantity(text: str) -> Decimal:
    """The value of a Kubernetes quantity (``250m`` -> 0.25); ValueError if it is not one."""
    match = QUANTITY.match(str(text))
    if not match:
        raise ValueError(QUANTITY_HINT)
    number, suffix = Decimal(match["num"]), match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    exponent = _DECIMAL[suffix] if suffix in _DECIMAL else int(suffix[1:])
    return number.scaleb(exponent)


def _quantity(value: str) -> str:
    parse_quantity(value)
    return value


Quantity = Annotated[str, AfterValidator(_quantity)]
#: An e-mail address as Alertmanager's ``to``/``from`` take it (one mailbox, local@domain.tld).
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
#: What Pulumi's own ``Config.get_bool`` accepts (pulumi/config.py): nothing else is a boolean.
PULUMI_BOOLS = {"true": True, "True": True, "false": False, "False": False}


class CoreSettings(_Base):
    """Keys every target reads."""

    target: Literal["local", "aws", "azure"] = "local"
    environment: Literal["dev", "staging", "prod"] = "dev"
    owner: TagValue = "ml-platform"
    cost_center: TagValue = "mlops"
    protect_data: bool = False
    namespace: DnsLabel = "mlops"
    kube_context: str = "minikube"
    kubeconfig: str = ""
    network_cidr: str = "10.40.0.0/16"
    availability_zones: Annotated[int, Field(ge=1, le=6)] = 2
    high_availability: bool = False
    kubernetes_version: Annotated[str, Field(pattern=r"^1\.[0-9]{2}$")] = "1.33"
    node_count: Annotated[int, Field(ge=1, le=100)] = 2
    node_min_count: Annotated[int, Field(ge=0, le=100)] = 1
    node_max_count: Annotated[int, Field(ge=1, le=100)] = 4
    node_size: str = ""
    serving_image: str = "mlops-platform/serving:0.1.0"
    serving_image_pull_policy: Literal["IfNotPresent", "Always", "Never"] = "IfNotPresent"
    serving_runtime: Literal[tuple(RUNTIMES)] = "kubernetes"  # type: ignore[valid-type]  # components/targets.py
    model_uri: str = "models:/demand@champion"
    serving_min_replicas: Annotated[int, Field(ge=1, le=100)] = 1
    serving_max_replicas: Annotated[int, Field(ge=1, le=100)] = 3
    serving_cpu_request: Quantity = "250m"
    serving_memory_request: Quantity = "512Mi"
    serving_cpu_limit: Quantity = "1"
    serving_memory_limit: Quantity = "1Gi"
    mlflow_storage_size: Quantity = "10Gi"
    registry_storage_size: Quantity = "10Gi"
    log_retention_days: Annotated[int, Field(ge=1, le=3653)] = 7
    monitoring_chart: str = ""
    alert_email: str = ""
    latency_p99_seconds: Annotated[float, Field(gt=0, le=60)] = 0.25
    error_rate: Annotated[float, Field(gt=0, le=1)] = 0.02
    drift_p_value: Annotated[float, Field(gt=0, le=0.5)] = 0.01
    build_images: bool = True
    image_platform: Literal["linux/amd64", "linux/arm64"] = "linux/amd64"
    docker_host: str = ""
    docker_cert_path: str = ""

    @field_validator("network_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError:
            net = None
        if net is None or net.version != 4 or not 16 <= net.prefixlen <= 24:
            raise ValueError("an IPv4 network in CIDR form with a /16 to /24 prefix, e.g. 10.40.0.0/16")
        return value

    @field_validator("serving_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        last = value.rsplit("/", 1)[-1]
        if not ("@sha256:" in last or (":" in last and not last.endswith(":latest"))):
            raise ValueError("an image pinned by tag (not latest) or digest, e.g. repo/serving:1.2.3")
        return value

    @field_validator("alert_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not EMAIL.match(value):
            raise ValueError("an e-mail address such as oncall@example.com, or empty for no alert mail")
        return value

    @field_validator("kubernetes_version", mode="before")
    @classmethod
    def _version(cls, value: Any) -> Any:
        text = str(value)
        if not re.match(r"^1\.[0-9]{2}$", text):
            hint = ""
            if isinstance(value, float) or re.match(r"^1\.[0-9]$", text):
                hint = (f" (unquoted in YAML, 1.30 reads as the number 1.3: quote it, "
                        f"kubernetesVersion: \"{text}0\")")
            raise ValueError(f"a version 1.NN as a string, e.g. \"1.33\"{hint}")
        return text

    @model_validator(mode="after")
    def _ranges(self) -> "CoreSettings":
        if self.node_min_count > self.node_max_count:
            raise _KeyError("nodeMinCount", self.node_min_count, f"at most nodeMaxCount ({self.node_max_count})")
        if not self.node_min_count <= self.node_count <= self.node_max_count:
            raise _KeyError("nodeCount", self.node_count,
                            f"from nodeMinCount to nodeMaxCount ({self.node_min_count}..{self.node_max_count})")
        if self.serving_min_replicas > self.serving_max_replicas:
            raise _KeyError("servingMinReplicas", self.serving_min_replicas,
                            f"at most servingMaxReplicas ({self.serving_max_replicas})")
        # The Kubernetes API refuses a request above its limit ("must be less than or equal to
        # ... limit"): e.g. servingCpuRequest 250 (250 cores) with servingCpuLimit 1.
        for kind in ("cpu", "memory"):
            request, limit = getattr(self, f"serving_{kind}_request"), getattr(self, f"serving_{kind}_limit")
            if parse_quantity(request) > parse_quantity(limit):
                key = f"serving{kind.capitalize()}Request"
                example = " (a bare number is whole cores: 250 is 250 CPUs; 250m is a quarter)" if kind == "cpu" else ""
                raise _KeyError(key, request, f"{QUANTITY_HINT}, at most serving{kind.capitalize()}Limit "
                                f"({limit!r}){example}")
        return self


class _KeyError(ValueError):
    """A cross-field rule broken by one key (carries the key so the message can name it)."""

    def __init__(self, key: str, value: Any, allowed: str, *, required: bool = True):
        if required and value in ("", None):
            super().__init__(f"{key}: not set; required; allowed: {allowed}")
        else:
            super().__init__(f"{key}: {value!r} is not allowed; allowed: {allowed}")
        self.key, self.value, self.allowed = key, value, allowed


from .config_aws import AwsSettings, component_options as _aws_options  # noqa: E402
from .config_aws import component_wiring as _aws_wiring, exports as _aws_exports  # noqa: E402
from .config_azure import AzureSettings, component_options as _azure_options  # noqa: E402
from .config_azure import component_wiring as _azure_wiring, exports as _azure_exports  # noqa: E402



def _local_options(s: Any) -> dict[str, dict[str, Any]]:
    """The ``local`` argument of each component, by concern (components/local/options.py)."""
    kube = {"kube_context": s.kube_context, "kubeconfig": s.kubeconfig or None}
    return {
        "network": kube,
        "cluster": kube,
        "registry": {"storage_size": s.registry_storage_size},
        "training": {"storage_size": s.mlflow_storage_size},
        "inference": {},
        "monitoring": {},
    }


#: Which function turns settings into each component's target-only options (one table, no if/else).
_CLOUD_OPTIONS = {"local": _local_options, "aws": _aws_options, "azure": _azure_options}
#: Which module adds outputs of earlier components to those options (optional per cloud).
_CLOUD_WIRING = {"aws": _aws_wiring, "azure": _azure_wiring}
#: Which module adds cloud-only stack outputs (optional per cloud).
#: Each takes (settings, **upstream components); azure's exports need no component.
_CLOUD_EXPORTS = {"aws": _aws_exports, "azure": lambda settings, **_: _azure_exports(settings)}


class StackSettings(CoreSettings, AwsSettings, AzureSettings):
    """Everything a stack can set: the core keys plus the cloud-only ones."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )

    @model_validator(mode="before")
    @classmethod
    def _pulumi_bools(cls, values: Any) -> Any:
        """Booleans as Pulumi reads them: true/false (True/False), never yes/1/on."""
        if not isinstance(values, Mapping):
            return values
        out = dict(values)
        for name, field in cls.model_fields.items():
            if field.annotation is not bool:
                continue
            for key in (field.alias or name, name):
                if key in out and not isinstance(out[key], bool):
                    if out[key] not in PULUMI_BOOLS:
                        raise _KeyError(field.alias or name, out[key], "true or false", required=False)
                    out[key] = PULUMI_BOOLS[out[key]]
        return out

    @property
    def tags(self) -> dict[str, str]:
        from components.tags import standard_tags

        return standard_tags(self.environment, self.owner, self.cost_center)

    def cloud_args(self, concern: str, **upstream: Any) -> "CloudBlocks":
        """``{"<target>": {...}}``: the component's options block of the stack's target (empty
        blocks are left out).

        ``upstream`` names the components built so far (``network=..., cluster=...``); a cloud
        whose backends need their outputs picks them in its wiring function.
        """
        options = _CLOUD_OPTIONS.get(self.target)
        if not options:
            return {}
        try:  # a cloud's options may import its provider SDK (azure: the resource-group default)
            args = dict(options(self)[concern])
            wiring = _CLOUD_WIRING.get(self.target)
            if wiring:
                args.update(wiring(concern, upstream))
        except ModuleNotFoundError as exc:
            raise missing_extra(self.target, exc) from None
        return cast(CloudBlocks, {self.target: args} if args else {})

    def cloud_exports(self, **upstream: Any) -> dict[str, Any]:
        """Stack outputs only the current cloud has (e.g. ``aws_region``), else ``{}``;
        ``upstream`` names the built components (aws exports the training jobs' VpcConfig)."""
        exports = _CLOUD_EXPORTS.get(self.target)
        return exports(self, **upstream) if exports else {}


def _allowed(error: Mapping[str, Any]) -> str:
    """What the user may write instead, from one pydantic error."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "literal_error":
        return str(ctx.get("expected", "")).replace("'", "")
    if kind == "string_pattern_mismatch":
        return f"a value matching {ctx.get('pattern')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        sign = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        return f"a number {sign} {bound}"
    if kind.startswith("int_"):
        return "a whole number"
    if kind.startswith("float_"):
        return "a number"
    if kind.startswith("bool_"):
        return "true or false"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "missing":
        return "a value (this key is required)"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def format_error(exc: ValidationError) -> str:
    """One line: ``<key>: <value> is not allowed; allowed: <what>``."""
    error = exc.errors()[0]
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, _KeyError):
        return str(cause)
    key = ".".join(str(part) for part in error["loc"]) or "config"
    if error["type"] == "extra_forbidden":
        known = sorted(f.alias or n for n, f in StackSettings.model_fields.items())
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.6)
        if not close:  # case slips (servingminreplicas) and long keys with one word wrong
            folded = {k.lower(): k for k in known}
            close = [folded[k] for k in difflib.get_close_matches(key.lower(), list(folded), n=3, cutoff=0.6)]
        hint = f"did you mean {' or '.join(close)}?" if close else f"none of the {len(known)} keys is close"
        return f"{key}: unknown config key; {hint} (every key: Pulumi.yaml's config block)"
    if error["type"] == "missing":
        return f"{key}: not set; required"
    value = error.get("input")
    return f"{key}: {value!r} is not allowed; allowed: {_allowed(error)}"


def parse_settings(raw: Mapping[str, Any]) -> StackSettings:
    """Validate raw (string or typed) values keyed by camelCase config key."""
    values = {k: _decode(v) for k, v in raw.items()}
    try:
        return StackSettings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"{PROJECT}:{format_error(exc)}") from None


def _decode(value: Any) -> Any:
    """Pulumi hands structured config over as JSON text; scalars stay strings for pydantic."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def raw_config() -> dict[str, Any]:
    """Every ``mlops-platform:*`` key the engine passed (all of them, to catch unknown ones)."""
    from pulumi.runtime.config import CONFIG, get_config_env

    merged = {**get_config_env(), **CONFIG.get()}
    prefix = f"{PROJECT}:"
    return {k[len(prefix):]: v for k, v in merged.items() if k.startswith(prefix)}


def load_settings() -> StackSettings:
    """Read and validate the running stack's configuration."""
    return parse_settings(raw_config())


#: One line per key for Pulumi.yaml's typed config block (``python -m stacks.config``).
DESCRIPTIONS: dict[str, str] = {
    "target": "Where the platform runs: local (Minikube), aws (EKS + SageMaker) or azure (AKS + Azure ML).",
    "environment": "dev, staging or prod; prod turns on the production-only policy rules.",
    "owner": "Team that owns the stack (tag/label on every resource).",
    "costCenter": "Cost center (tag/label on every resource).",
    "protectData": "Protect data stores and keys from deletion (on in prod).",
    "namespace": "Kubernetes namespace of the platform.",
    "kubeContext": "local: kubeconfig context to deploy into.",
    "kubeconfig": "local: path or contents of a kubeconfig (default: ~/.kube/config).",
    "networkCidr": "IPv4 range of the VPC/VNet (/16 to /24).",
    "availabilityZones": "How many availability zones to span (1-6).",
    "highAvailability": "One NAT gateway per zone instead of one shared.",
    "kubernetesVersion": "EKS/AKS control-plane version (1.NN).",
    "nodeCount": "Desired nodes in the default pool.",
    "nodeMinCount": "Autoscaler floor of the default pool.",
    "nodeMaxCount": "Autoscaler ceiling of the default pool.",
    "nodeSize": "Instance type / VM size of the nodes (empty: the backend's cheap default).",
    "servingImage": "Serving image, pinned by tag or digest (never latest).",
    "servingImagePullPolicy": "IfNotPresent, Always, or Never (images built into Minikube).",
    "servingRuntime": "kubernetes (every target), sagemaker (aws) or azureml (azure).",
    "modelUri": "What the endpoint serves, e.g. models:/demand@champion.",
    "servingMinReplicas": "Autoscaling floor of the endpoint.",
    "servingMaxReplicas": "Autoscaling ceiling of the endpoint.",
    "servingCpuRequest": "CPU request per serving pod.",
    "servingMemoryRequest": "Memory request per serving pod.",
    "servingCpuLimit": "CPU limit per serving pod.",
    "servingMemoryLimit": "Memory limit per serving pod.",
    "mlflowStorageSize": "local: volume for the MLflow sqlite store and artifacts.",
    "registryStorageSize": "local: volume for the in-cluster image registry.",
    "logRetentionDays": "Metrics and log retention in days.",
    "alertEmail": "Where alerts are sent (optional).",
    "monitoringChart": "kube-prometheus-stack source: empty for its Helm repository, or a local chart directory (relative to the project root).",
    "latencyP99Seconds": "Alert threshold: p99 latency in seconds.",
    "errorRate": "Alert threshold: share of 5xx responses.",
    "driftPValue": "Alert threshold: a feature's drift p-value below this.",
    "buildImages": "Build and publish the serving and training images from this checkout (false: deploy servingImage as given).",
    "imagePlatform": "Platform the images are built for: linux/amd64 (EKS/AKS nodes, SageMaker, AML) or linux/arm64.",
    "dockerHost": "local: Minikube's Docker daemon, the DOCKER_HOST of `minikube docker-env` (empty: the ambient DOCKER_HOST).",
    "dockerCertPath": "local: the DOCKER_CERT_PATH of `minikube docker-env` (empty: none or the ambient one).",
    "awsRegion": "aws: region to deploy into.",
    "awsAccountId": "aws: refuse to deploy into any other account (12 digits; empty: no check).",
    "awsDeployerRoleArn": "aws: IAM role that runs pulumi up; its access entry is the only EKS cluster admin (required).",
    "awsPublicApiCidrs": "aws: comma-separated CIDRs allowed on the public EKS API endpoint (empty: public endpoint off).",
    "awsApiRunnerCidrs": "aws: comma-separated CIDRs of runners inside the VPC (CI, VPN, SSM host) admitted on 443 to the EKS cluster security group (the private API endpoint).",
    "awsApiRunnerSecurityGroupIds": "aws: comma-separated security group ids of runners admitted on 443 to the EKS cluster security group.",
    "awsSpotInstanceTypes": "aws: comma-separated instance types of an optional spot node group (empty: none).",
    "awsSpotMaxCount": "aws: ceiling of the spot node group.",
    "awsNodeDiskSizeGib": "aws: encrypted gp3 root volume per node, GiB.",
    "awsEnableMlflow": "aws: create the SageMaker managed MLflow tracking server.",
    "awsMlflowServerSize": "aws: SageMaker MLflow tracking server size (Small, Medium, Large).",
    "awsSagemakerInstanceType": "aws, servingRuntime sagemaker: instance type of the endpoint.",
    "awsSagemakerModelDataKey": "aws, servingRuntime sagemaker: model.tar.gz key in the artifact bucket.",
    "awsSagemakerDataCapturePercent": "aws, servingRuntime sagemaker: share of requests captured to S3 (0 = off).",
    "awsSagemakerInvocationsPerInstance": "aws, servingRuntime sagemaker: autoscaling target, invocations per instance per minute.",
    "awsSagemakerRolloutInstanceCount": "aws, servingRuntime sagemaker: instances of a new endpoint configuration (0 = servingMinReplicas); set to the current count before changing the instance type.",
    "azureLocation": "azure: region to deploy into.",
    "azureResourceGroup": "azure: resource group of the platform (empty: rg-<project>-<stack>).",
    "azureCreateResourceGroup": "azure: create the resource group (false: adopt an existing one).",
    "azurePrivateEndpoints": "azure: public access off on ACR, Key Vault, storage and AML; private endpoints instead.",
    "azurePrivateCluster": "azure: AKS API server on a private IP only (run pulumi from inside the VNet).",
    "azureAuthorizedIpRanges": "azure: comma-separated CIDRs allowed to reach a public AKS API server.",
    "azureIngressSourcePrefixes": "azure: comma-separated sources (CIDRs, service tags) allowed to reach HTTPS on the cluster subnet.",
    "azureDeployerObjectId": "azure: object id of the deployer (AKS RBAC admin on the cluster); empty: the caller.",
    "azureDeployerPrincipalType": "azure: User (az login), ServicePrincipal (CI) or Group: what the deployer is; empty: derived from the sign-in client (required in prod).",
    "azureNameSalt": "azure: up to 12 lowercase letters/digits mixed into globally unique names (storage, ACR, Key Vault, endpoint) with project, stack and subscription.",
    "azureAdminGroupObjectIds": "azure: comma-separated object ids of Entra ID groups that are AKS cluster admins.",
    "azureHostEncryption": "azure: encryption at host on AKS nodes (subscription feature EncryptionAtHost).",
    "azurePolicyAddon": "azure: enable the AKS Azure Policy add-on.",
    "azureAksTier": "azure: AKS pricing tier, Free or Standard (uptime SLA).",
    "azureSystemNodeSize": "azure: VM size of the AKS system pool.",
    "azureKubeloginMode": "azure: kubelogin --login mode in the kubeconfig (azurecli, workloadidentity, msi, spn).",
    "azureAcrSku": "azure: ACR SKU, Basic, Standard or Premium (Premium for private endpoints).",
    "azureComputeVmSize": "azure: VM size of the AML compute cluster.",
    "azureComputeMaxNodes": "azure: ceiling of the AML compute cluster (the floor is 0).",
    "azureComputeIdleSeconds": "azure: idle seconds before the AML compute cluster scales down.",
    "azureInfrastructureEncryption": "azure: infrastructure (double) encryption on the storage account.",
    "azureEndpointAuthMode": "azure, servingRuntime azureml: endpoint auth, Key or AADToken.",
    "azureEndpointPublicAccess": "azure, servingRuntime azureml: endpoint reachable from the Internet.",
    "azureEndpointInstanceType": "azure, servingRuntime azureml: VM size of each deployment instance.",
    "azureTrafficBlue": "azure, servingRuntime azureml: percent of traffic to the blue deployment.",
    "azureTrafficGreen": "azure, servingRuntime azureml: percent of traffic to green (blue + green = 100).",
    "azureGreenImage": "azure, servingRuntime azureml: image of the green deployment (empty: servingImage).",
}


def pulumi_type(annotation: Any) -> dict[str, Any]:
    """Pulumi project config knows string, integer, boolean and array (with ``items``); floats
    travel as strings. ``X | None`` is typed as X."""
    import types
    import typing

    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (str,)
        return {"type": "array", "items": pulumi_type(item)}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    return {"type": "string"}


def pulumi_config_block() -> dict[str, dict[str, Any]]:
    """The ``config:`` block of Pulumi.yaml, generated from the model (a test keeps them equal)."""
    block: dict[str, dict[str, Any]] = {}
    for name, field in StackSettings.model_fields.items():
        alias = field.alias or name
        entry: dict[str, Any] = {**pulumi_type(field.annotation), "description": DESCRIPTIONS[alias]}
        if not field.is_required():
            default = field.default
            if default is not None:
                entry["default"] = default if isinstance(default, (bool, int, str, list)) else str(default)
        block[alias] = entry
    return block


if __name__ == "__main__":  # python -m stacks.config: print the block for Pulumi.yaml
    import yaml

    print(yaml.safe_dump({"config": pulumi_config_block()}, sort_keys=False, width=100), end="")


class _Probe:
    """Stands in for the settings: each attribute reads as a marker naming its field."""

    def __getattr__(self, name: str) -> str:
        if name not in StackSettings.model_fields:
            raise AttributeError(name)
        return f"<<config:{name}>>"


def option_keys(target: str) -> dict[tuple[str, str], str]:
    """``(concern, option) -> config key`` for the target's options blocks, read from the very
    functions that fill them (``aws.region`` of any component -> ``awsRegion``)."""
    options = _CLOUD_OPTIONS.get(target)
    if not options:
        return {}
    keys: dict[tuple[str, str], str] = {}
    for concern, block in options(_Probe()).items():
        for option, value in block.items():
            names = re.findall(r"<<config:([a-z0-9_]+)>>", repr(value))
            if names:
                field = StackSettings.model_fields[names[0]]
                keys[(concern, option)] = field.alias or names[0]
    return keys
