"""InferenceEndpoint on Azure: the serving image on AKS or on an AML managed online endpoint.

Both runtimes run as a user-assigned managed identity that can only *read*: a custom role on
the workspace with the read actions MLflow needs to resolve ``models:/…@champion`` and fetch
its files (:data:`MODEL_READER_ACTIONS`; no built-in role is that narrow: *AzureML Data
Scientist* could redeploy endpoints, shift traffic and list keys), *Storage Blob Data Reader* on
the workspace storage (shared keys are off, and AML grants a user-assigned identity nothing),
and *AcrPull* on each distinct registry the deployments pull from. Every deployment depends on
all of these grants, so the first image pull and model load never race them. No secrets.

``runtime: kubernetes`` — the shared objects (components/kubernetes/serving.py) unchanged, with
HTTPS egress open and Entra workload identity: the ServiceAccount carries the identity's client
id, the pods the ``azure.workload.identity/use`` label, and a federated credential trusts the
AKS OIDC issuer for exactly ``system:serviceaccount:<namespace>:<name>``.

``runtime: azureml`` — a managed online endpoint (auth ``Key`` or ``AADToken``, never none;
public access from config) with two deployments, ``blue`` (``image``) and ``green``
(``green_image`` or ``image``), each an environment whose inference config points AML's
liveness/readiness/scoring routes at the serving app (``/health/live``, ``/health/ready``,
``/invocations`` on 8080), and the identity also holds AcrPull on the image's ACR.

Traffic is set in a second step: the endpoint's traffic map names deployments that depend on
the endpoint, so the endpoint is created without traffic (and ignores later drift of it) and an
ARM deployment (:func:`traffic_template`) that depends on both deployments PUTs the endpoint
again with ``traffic: {blue: b, green: g}``. The template also carries the endpoint's own inputs
(auth mode, public access, identity, tags), so any change that re-PUTs the endpoint re-runs the
traffic step after it. A blue/green rollout is therefore config only: set
``azureGreenImage``, ``pulumi up``, then move ``azureTrafficBlue``/``azureTrafficGreen``.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.machinelearningservices as ml
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.resources as resources
from contract.serving import AZUREML_ROUTES
# First-model bootstrap (shared design): ready and "awaiting_model" while the registry says the
# champion does not exist yet, so a fresh ``pulumi up`` finishes before any model is trained.
from contract.serving import READY_WITHOUT_MODEL_ENV as ENV_READY_WITHOUT_MODEL

from ..kubernetes.serving import (
    ENV_MODEL_URI,
    ENV_PORT,
    ENV_TRACKING_URI,
    create_serving,
)
from ..kubernetes.tenancy import SERVING_PORT
from ..naming import stable_suffix
from ..tags import kubernetes_labels
from .common import (
    TOKEN_EXCHANGE_AUDIENCE,
    acr_name,
    arm_id,
    deterministic_guid,
    diagnostic_setting,
    name as cloud,
    opts,
    placement,
    role_assignment,
    storage_account_name,
)

#: The serving app's AML routes (contract/serving.py).
LIVENESS_PATH = AZUREML_ROUTES["liveness_route"]["path"]
READINESS_PATH = AZUREML_ROUTES["readiness_route"]["path"]
SCORING_PATH = AZUREML_ROUTES["scoring_route"]["path"]
COLORS = ("blue", "green")
WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"
WORKLOAD_IDENTITY_CLIENT_ID = "azure.workload.identity/client-id"
#: ARM API version the traffic step PUTs the endpoint with (the SDK's default for OnlineEndpoint).
ENDPOINT_API_VERSION = "2025-12-01"
ENDPOINT_LOGS = ("AmlOnlineEndpointTrafficLog", "AmlOnlineEndpointConsoleLog", "AmlOnlineEndpointEventLog")
_ACR_HOST = re.compile(r"^([a-z0-9]{5,50})\.azurecr\.io/")
#: What the serving identity may do in the workspace: read models, their runs and datastores.
MODEL_READER_ACTIONS = (
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/models/read",
    "Microsoft.MachineLearningServices/workspaces/models/versions/read",
    "Microsoft.MachineLearningServices/workspaces/experiments/read",
    "Microsoft.MachineLearningServices/workspaces/experiments/runs/read",
    "Microsoft.MachineLearningServices/workspaces/datastores/read",
)
MODEL_READER_ROLE = "mlops-platform model reader"


def traffic_split(blue: int, green: int) -> dict[str, int]:
    """``{"blue": b, "green": g}``; refuses splits that do not add up to 100."""
    if not (0 <= blue <= 100 and 0 <= green <= 100 and blue + green == 100):
        raise ValueError(f"traffic: blue {blue} + green {green} must be two percentages adding up to 100")
    return {"blue": blue, "green": green}


def _registry_id(where: Any, registry: str) -> pulumi.Output[str]:
    return pulumi.Output.all(where.subscription_id, where.resource_group).apply(
        lambda a: arm_id(a[0], a[1], "Microsoft.ContainerRegistry/registries", registry))


def acr_of(image: str) -> str:
    """The ACR name of an ``<acr>.azurecr.io/...`` image, else empty."""
    match = _ACR_HOST.match(image or "")
    return match.group(1) if match else ""


ENDPOINT_DESCRIPTION = "mlops-platform serving endpoint (blue/green)"


def traffic_template(workspace: str, endpoint: str, location: str, identity_id: str, auth_mode: str,
                     public_access: str, traffic: dict[str, int], tags: dict[str, str]) -> dict[str, Any]:
    """The ARM template of the traffic step: the same endpoint, now with its traffic map.

    A PUT replaces the whole resource, so the template carries *every* input the endpoint
    resource declares (kind, identity, auth mode, public access, description, tags): nothing the
    endpoint step set is reset by the traffic step, and the traffic step runs again whenever the
    endpoint is re-PUT (its inputs are in the template), so traffic cannot stay at 0%."""
    return {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
        "contentVersion": "1.0.0.0",
        "resources": [
            {
                "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
                "apiVersion": ENDPOINT_API_VERSION,
                "name": f"{workspace}/{endpoint}",
                "location": location,
                "tags": tags,
                "identity": {"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}},
                "kind": "Managed",
                "properties": {"authMode": auth_mode, "publicNetworkAccess": public_access,
                               "description": ENDPOINT_DESCRIPTION, "traffic": traffic},
            }
        ],
    }


def _identity(component: Any, name: str, where: Any, workspace_id: Any) -> tuple[Any, list[Any]]:
    """The serving identity and its read-only grants (model reader on the workspace, blob
    reader on the workspace storage)."""
    identity = managedidentity.UserAssignedIdentity(
        f"{name}-identity",
        resource_group_name=where.resource_group,
        resource_name_=cloud("azure_resource", name, "identity"),
        location=where.location,
        tags=where.tags,
        opts=opts(component),
    )
    reader = authorization.RoleDefinition(
        f"{name}-model-reader-role",
        authorization.RoleDefinitionArgs(
            scope=workspace_id,
            role_definition_id=pulumi.Output.from_input(workspace_id).apply(
                lambda ws: deterministic_guid(str(ws).lower(), MODEL_READER_ROLE)),
            role_name=pulumi.Output.from_input(workspace_id).apply(
                lambda ws: f"{MODEL_READER_ROLE} ({str(ws).rsplit('/', 1)[-1]})"),
            description="Read registered models, their runs and datastores in one AML workspace (serving)",
            role_type="CustomRole",
            permissions=[authorization.PermissionArgs(actions=list(MODEL_READER_ACTIONS))],
            assignable_scopes=[workspace_id],
        ),
        opts=opts(component),
    )
    storage_id = pulumi.Output.all(where.subscription_id, where.resource_group).apply(
        lambda a: arm_id(a[0], a[1], "Microsoft.Storage/storageAccounts", storage_account_name())
    )
    grants = [
        role_assignment(
            component, f"{name}-workspace-model-reader", where,
            scope=workspace_id, role=MODEL_READER_ROLE, principal_id=identity.principal_id,
            role_definition=reader.id,
        ),
        role_assignment(
            component, f"{name}-storage-blob-reader", where,
            scope=storage_id, role="Storage Blob Data Reader", principal_id=identity.principal_id,
        ),
    ]
    return identity, grants


def _kubernetes(component: Any, name: str, settings: Any, where: Any, identity: Any, grants: list[Any]) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    federation = managedidentity.FederatedIdentityCredential(
        f"{name}-federation",
        resource_group_name=where.resource_group,
        resource_name_=identity.name,
        federated_identity_credential_resource_name=cloud("azure_resource", name, "aks"),
        issuer=options["oidc_issuer_url"],
        subject=pulumi.Output.concat("system:serviceaccount:", settings.namespace, ":", name),
        audiences=[TOKEN_EXCHANGE_AUDIENCE],
        opts=opts(component),
    )
    # The ServiceAccount (and so the pods) wait for the federation and every grant: a pod that
    # starts first would fail its first token exchange or model read.
    annotations = pulumi.Output.all(
        settings.service_account_annotations, identity.client_id, federation.id, *[g.id for g in grants]
    ).apply(lambda a: {**(a[0] or {}), WORKLOAD_IDENTITY_CLIENT_ID: a[1]})
    labels = {**kubernetes_labels(where.tags), WORKLOAD_IDENTITY_LABEL: "true"}
    objects = create_serving(
        name, {**settings, "service_account_annotations": annotations}, labels, component, allow_https_egress=True
    )
    return {
        "url": objects.url,
        "endpoint_name": objects.deployment.metadata.apply(lambda m: m.name),
        "service_account": objects.service_account.metadata.apply(lambda m: m.name),
    }


def acr_pull_registries(images: dict[str, Any], own_registry: str) -> list[str]:
    """The distinct ACRs the deployments pull from, in color order. An image that is an Output
    (ContainerImages built it) lives in the stack's own registry; a string names its ACR in its
    host (none outside ACR). Deduplicated on the registry name, not on how the image was given:
    blue built here and green pinned to the same ACR is *one* AcrPull."""
    found: dict[str, None] = {}
    for image in images.values():
        registry = acr_of(image) if isinstance(image, str) else own_registry
        if registry:
            found[registry] = None
    return list(found)


def _azureml(component: Any, name: str, settings: Any, where: Any, identity: Any, grants: list[Any]) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    workspace = options["workspace_name"]
    traffic = traffic_split(int(options["traffic_blue"]), int(options["traffic_green"]))
    auth_mode = ml.EndpointAuthMode(options["auth_mode"])
    public = ml.PublicNetworkAccessType.ENABLED if options["public_access"] else ml.PublicNetworkAccessType.DISABLED
    images = {"blue": settings.image, "green": options["green_image"] or settings.image}

    # AcrPull on each distinct ACR the deployments pull from (images outside ACR need none).
    own = acr_name()
    for registry in acr_pull_registries(images, own):
        grants.append(role_assignment(
            component, f"{name}-acrpull" if registry == own else f"{name}-acrpull-{registry}", where,
            scope=_registry_id(where, registry),
            role="AcrPull", principal_id=identity.principal_id,
        ))

    endpoint = ml.OnlineEndpoint(
        f"{name}-endpoint",
        ml.OnlineEndpointArgs(
            resource_group_name=where.resource_group,
            workspace_name=workspace,
            endpoint_name=cloud("azure_ml_endpoint", name),
            location=where.location,
            identity=ml.ManagedServiceIdentityArgs(
                type=ml.ManagedServiceIdentityType.USER_ASSIGNED, user_assigned_identities=[identity.id]
            ),
            properties=ml.OnlineEndpointPropertiesArgs(
                auth_mode=auth_mode,
                public_network_access=public,
                description=ENDPOINT_DESCRIPTION,
            ),
            kind="Managed",
            tags=where.tags,
        ),
        # The traffic step below owns properties.traffic.
        opts=opts(component, ignore_changes=["properties.traffic"]),
    )
    deployments = []
    for color in COLORS:
        image = pulumi.Output.from_input(images[color])
        environment = ml.EnvironmentVersion(
            f"{name}-env-{color}",
            ml.EnvironmentVersionArgs(
                resource_group_name=where.resource_group,
                workspace_name=workspace,
                name=cloud("azure_resource", name, color),
                # Versions are immutable: a new image is a new version.
                version=image.apply(lambda img: stable_suffix(img, length=12)),
                properties=ml.EnvironmentVersionPropertiesArgs(
                    image=image,
                    os_type=ml.OperatingSystemType.LINUX,
                    description=f"serving image ({color})",
                    inference_config=ml.InferenceContainerPropertiesArgs(
                        liveness_route=ml.RouteArgs(path=LIVENESS_PATH, port=AZUREML_ROUTES["liveness_route"]["port"]),
                        readiness_route=ml.RouteArgs(path=READINESS_PATH, port=AZUREML_ROUTES["readiness_route"]["port"]),
                        scoring_route=ml.RouteArgs(path=SCORING_PATH, port=AZUREML_ROUTES["scoring_route"]["port"]),
                    ),
                ),
            ),
            opts=opts(component),
        )
        deployments.append(ml.OnlineDeployment(
            f"{name}-deployment-{color}",
            ml.OnlineDeploymentArgs(
                resource_group_name=where.resource_group,
                workspace_name=workspace,
                endpoint_name=endpoint.name,
                deployment_name=color,
                location=where.location,
                sku=ml.SkuArgs(name="Default", capacity=settings.min_replicas),
                properties=ml.ManagedOnlineDeploymentArgs(
                    endpoint_compute_type="Managed",
                    environment_id=environment.id,
                    instance_type=options["instance_type"],
                    environment_variables={
                        ENV_MODEL_URI: settings.model_uri,
                        ENV_TRACKING_URI: settings.tracking_uri,
                        ENV_PORT: str(SERVING_PORT),
                        ENV_READY_WITHOUT_MODEL: "true",
                        "AZURE_CLIENT_ID": identity.client_id,
                    },
                    liveness_probe=ml.ProbeSettingsArgs(initial_delay="PT10S", period="PT10S", timeout="PT2S", failure_threshold=3),
                    readiness_probe=ml.ProbeSettingsArgs(initial_delay="PT10S", period="PT5S", timeout="PT2S", failure_threshold=2),
                    request_settings=ml.OnlineRequestSettingsArgs(request_timeout="PT5S", max_concurrent_requests_per_instance=4),
                    scale_settings=ml.DefaultScaleSettingsArgs(scale_type="Default"),
                    app_insights_enabled=True,
                    egress_public_network_access=(
                        ml.EgressPublicNetworkAccessType.DISABLED if where.private_endpoints
                        else ml.EgressPublicNetworkAccessType.ENABLED
                    ),
                ),
                tags=where.tags,
            ),
            # The image pull (AcrPull) and the model read (model reader, blob reader) must not
            # race their role assignments.
            opts=opts(component, depends_on=grants),
        ))

    template = pulumi.Output.all(workspace, endpoint.name, identity.id).apply(
        lambda a: traffic_template(a[0], a[1], where.location, a[2], auth_mode.value, public.value, traffic, where.tags)
    )
    resources.Deployment(
        f"{name}-traffic",
        resources.DeploymentArgs(
            resource_group_name=where.resource_group,
            deployment_name=cloud("azure_resource", name, "traffic"),
            properties=resources.DeploymentPropertiesArgs(mode=resources.DeploymentMode.INCREMENTAL, template=template),
            tags=where.tags,
        ),
        opts=opts(component, depends_on=deployments),
    )
    diagnostic_setting(
        component, f"{name}-endpoint-diagnostics",
        resource_uri=endpoint.id,
        workspace_id=where.log_workspace_id,
        categories=ENDPOINT_LOGS,
    )
    return {
        "url": endpoint.properties.apply(lambda p: (p.scoring_uri if p else "") or ""),
        "endpoint_name": endpoint.name,
    }


RUNTIMES = {"kubernetes": _kubernetes, "azureml": _azureml}


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    where = placement(component, settings, anchor=pulumi.Output.all(settings.tracking_uri, options["workspace_id"]))
    identity, grants = _identity(component, name, where, options["workspace_id"])
    return RUNTIMES[settings.runtime](component, name, settings, where, identity, grants)
