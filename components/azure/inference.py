"""InferenceEndpoint on Azure: the serving image on AKS or on an AML managed online endpoint.

Both runtimes run as a user-assigned managed identity holding *AzureML Data Scientist* on the
workspace only (to resolve ``models:/…`` through the workspace's MLflow); no secrets anywhere.

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
import pulumi_azure_native.machinelearningservices as ml
import pulumi_azure_native.managedidentity as managedidentity
import pulumi_azure_native.resources as resources
from contract.serving import AZUREML_ROUTES

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
    arm_id,
    diagnostic_setting,
    log_workspace_id,
    name as cloud,
    opts,
    placement,
    role_assignment,
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


def traffic_split(blue: int, green: int) -> dict[str, int]:
    """``{"blue": b, "green": g}``; refuses splits that do not add up to 100."""
    if not (0 <= blue <= 100 and 0 <= green <= 100 and blue + green == 100):
        raise ValueError(f"traffic: blue {blue} + green {green} must be two percentages adding up to 100")
    return {"blue": blue, "green": green}


def acr_of(image: str) -> str:
    """The ACR name of an ``<acr>.azurecr.io/...`` image, else empty."""
    match = _ACR_HOST.match(image or "")
    return match.group(1) if match else ""


def traffic_template(workspace: str, endpoint: str, location: str, identity_id: str, auth_mode: str,
                     public_access: str, traffic: dict[str, int], tags: dict[str, str]) -> dict[str, Any]:
    """The ARM template of the traffic step: the same endpoint, now with its traffic map."""
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
                "properties": {"authMode": auth_mode, "publicNetworkAccess": public_access, "traffic": traffic},
            }
        ],
    }


def _identity(component: Any, name: str, where: Any, workspace_id: Any) -> managedidentity.UserAssignedIdentity:
    identity = managedidentity.UserAssignedIdentity(
        f"{name}-identity",
        resource_group_name=where.resource_group,
        resource_name_=cloud("azure_resource", name, "identity"),
        location=where.location,
        tags=where.tags,
        opts=opts(component),
    )
    role_assignment(
        component, f"{name}-workspace-data-scientist", where,
        scope=workspace_id, role="AzureML Data Scientist", principal_id=identity.principal_id,
    )
    return identity


def _kubernetes(component: Any, name: str, settings: Any, where: Any, identity: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    managedidentity.FederatedIdentityCredential(
        f"{name}-federation",
        resource_group_name=where.resource_group,
        resource_name_=identity.name,
        federated_identity_credential_resource_name=cloud("azure_resource", name, "aks"),
        issuer=options["oidc_issuer_url"],
        subject=pulumi.Output.concat("system:serviceaccount:", settings.namespace, ":", name),
        audiences=[TOKEN_EXCHANGE_AUDIENCE],
        opts=opts(component),
    )
    annotations = pulumi.Output.all(settings.service_account_annotations, identity.client_id).apply(
        lambda a: {**(a[0] or {}), WORKLOAD_IDENTITY_CLIENT_ID: a[1]}
    )
    labels = {**kubernetes_labels(where.tags), WORKLOAD_IDENTITY_LABEL: "true"}
    objects = create_serving(
        name, {**settings, "service_account_annotations": annotations}, labels, component, allow_https_egress=True
    )
    return {
        "url": objects.url,
        "endpoint_name": objects.deployment.metadata.apply(lambda m: m.name),
        "service_account": objects.service_account.metadata.apply(lambda m: m.name),
    }


def _azureml(component: Any, name: str, settings: Any, where: Any, identity: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    workspace = options["workspace_name"]
    traffic = traffic_split(int(options["traffic_blue"]), int(options["traffic_green"]))
    auth_mode = ml.EndpointAuthMode(options["auth_mode"])
    public = ml.PublicNetworkAccessType.ENABLED if options["public_access"] else ml.PublicNetworkAccessType.DISABLED
    images = {"blue": settings.image, "green": options["green_image"] or settings.image}

    # AcrPull on each distinct ACR the deployments pull from (images outside ACR need none).
    granted: set[str] = set()
    for color, image in images.items():
        # An Output (the image ContainerImages built) is deduplicated by identity: green without
        # its own image reuses blue's, and a second identical assignment would be refused by ARM.
        key = acr_of(image) if isinstance(image, str) else f"<output {id(image)}>"
        if (isinstance(image, str) and not key) or key in granted:
            continue
        granted.add(key)
        role_assignment(
            component, f"{name}-acrpull-{color}", where,
            scope=pulumi.Output.all(where.subscription_id, where.resource_group, image).apply(
                lambda a: arm_id(a[0], a[1], "Microsoft.ContainerRegistry/registries", acr_of(a[2]))
            ),
            role="AcrPull", principal_id=identity.principal_id,
        )

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
                description="mlops-platform serving endpoint (blue/green)",
            ),
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
            opts=opts(component),
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
        workspace_id=pulumi.Output.all(where.subscription_id, where.resource_group).apply(lambda a: log_workspace_id(*a)),
        categories=ENDPOINT_LOGS,
    )
    return {
        "url": endpoint.properties.apply(lambda p: (p.scoring_uri if p else "") or ""),
        "endpoint_name": endpoint.name,
        "service_account": "",
    }


RUNTIMES = {"kubernetes": _kubernetes, "azureml": _azureml}


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    options = settings.azure  # resolved: every option present (components/spec.py)
    where = placement(component, settings, anchor=pulumi.Output.all(settings.tracking_uri, options["workspace_id"]))
    identity = _identity(component, name, where, options["workspace_id"])
    return RUNTIMES[settings.runtime](component, name, settings, where, identity)
