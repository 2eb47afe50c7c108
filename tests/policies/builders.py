"""Happy-path builders: resources in the capture harness's record shape, secure by default,
as the components declare them. Tests change one thing (a mutation) and expect one message.

Records match ``stacks.plan.capture``: ``{"urn", "type", "name", "parent", "custom", "inputs",
"dependencies", "property_dependencies", "provider", "protect"}``. A reference to another
resource's output is what the mocks give: the target's logical name (its mock id) plus a
property dependency on its URN.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from policies.lib import types as t
from policies.lib.data import builtin_role_id

STACK = "test"
PROJECT = "mlops-platform"
ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/0f1e2d3c-aaaa-bbbb-cccc-123456789012"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
RG_ID = f"{SUB}/resourceGroups/mlops-rg"

DEV = {"environment": "dev", "owner": "ml-platform", "costCenter": "mlops"}
PROD = {"environment": "prod", "owner": "ml-platform", "costCenter": "mlops"}
TAGS = {"owner": "ml-platform", "environment": "dev", "cost-center": "mlops", "project": PROJECT, "managed-by": "pulumi"}
LABELS = {
    "app.kubernetes.io/part-of": PROJECT,
    "app.kubernetes.io/managed-by": "pulumi",
    "mlops-platform/environment": "dev",
    "mlops-platform/owner": "ml-platform",
    "mlops-platform/cost-center": "mlops",
}


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}"


def res(type_: str, name: str, inputs: dict[str, Any], *, protect: bool = False,
        refs: dict[str, dict] | None = None, provider: dict | None = None) -> dict[str, Any]:
    """A record; ``refs`` maps an input key to the resource it references."""
    refs = refs or {}
    inputs = copy.deepcopy(inputs)
    for key, target in refs.items():
        inputs.setdefault(key, target["name"])  # the mock id
    return {
        "urn": urn(type_, name),
        "type": type_,
        "name": name,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "dependencies": sorted({target["urn"] for target in refs.values()}),
        "property_dependencies": {key: [target["urn"]] for key, target in refs.items()},
        "provider": f"{provider['urn']}::{provider['name']}-id" if provider else None,
        "protect": protect,
    }


def merge(record: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with ``patch`` deep-merged into its inputs (``None`` deletes a key)."""
    out = copy.deepcopy(record)

    def apply(target: dict, changes: dict) -> None:
        for key, value in changes.items():
            if value is None:
                target.pop(key, None)
            elif isinstance(value, dict) and isinstance(target.get(key), dict):
                apply(target[key], value)
            else:
                target[key] = copy.deepcopy(value)

    apply(out["inputs"], patch)
    return out


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- AWS ---------------------------------------------------------------------------------------

def bucket(name: str = "artifacts", *, protect: bool = True) -> dict:
    return res(t.S3_BUCKET, name, {"forceDestroy": False, "tags": TAGS}, protect=protect)


def bucket_encryption(target: dict, *, algorithm: str = "aws:kms", key: str | None = KEY_ARN) -> dict:
    default = {"sseAlgorithm": algorithm}
    if key:
        default["kmsMasterKeyId"] = key
    return res(t.S3_BUCKET_SSE, f"{target['name']}-encryption",
               {"rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}]},
               refs={"bucket": target})


def bucket_public_access_block(target: dict, **overrides: bool) -> dict:
    settings = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
                "restrictPublicBuckets": True, **overrides}
    return res(t.S3_BUCKET_PUBLIC_ACCESS_BLOCK, f"{target['name']}-public-access-block", settings,
               refs={"bucket": target})


TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::artifacts", "arn:aws:s3:::artifacts/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_policy(target: dict, *statements: dict) -> dict:
    return res(t.S3_BUCKET_POLICY, f"{target['name']}-policy", {"policy": doc(*(statements or (TLS_ONLY,)))},
               refs={"bucket": target})


def secure_bucket(name: str = "artifacts") -> list[dict]:
    b = bucket(name)
    return [b, bucket_encryption(b), bucket_public_access_block(b), bucket_policy(b)]


def kms_key(name: str = "key", *, protect: bool = True) -> dict:
    return res(t.KMS_KEY, name, {"enableKeyRotation": True, "deletionWindowInDays": 30.0, "tags": TAGS}, protect=protect)


def launch_template(name: str = "nodes") -> dict:
    return res(t.EC2_LAUNCH_TEMPLATE, name, {
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "kmsKeyId": KEY_ARN,
                                                                      "volumeSize": 50.0, "volumeType": "gp3"}}],
        "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2.0},
        "tags": TAGS,
    })


def ebs_volume(name: str = "scratch", **inputs: Any) -> dict:
    return res(t.EBS_VOLUME, name, {"availabilityZone": "eu-west-1a", "size": 20.0, "encrypted": True,
                                    "kmsKeyId": KEY_ARN, "tags": TAGS, **inputs})


def eks_cluster(name: str = "cluster", **vpc: Any) -> dict:
    return res(t.EKS_CLUSTER, name, {
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/cluster-role",
        "version": "1.33",
        "accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True},
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
        "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "endpointPrivateAccess": True,
                      "endpointPublicAccess": False, **vpc},
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "tags": TAGS,
    })


def access_policy_association(name: str, policy: str, principal: str) -> dict:
    return res(t.EKS_ACCESS_POLICY_ASSOCIATION, name, {
        "clusterName": "cluster",
        "policyArn": f"arn:aws:eks::aws:cluster-access-policy/{policy}",
        "principalArn": principal,
        "accessScope": {"type": "namespace", "namespaces": ["mlops"]},
    })


def access_entry(name: str, principal: str, groups: list[str] | None = None) -> dict:
    inputs = {"clusterName": "cluster", "principalArn": principal, "type": "STANDARD", "tags": TAGS}
    if groups is not None:
        inputs["kubernetesGroups"] = groups
    return res(t.EKS_ACCESS_ENTRY, name, inputs)


def ecr_repository(name: str = "serving", *, protect: bool = True, **inputs: Any) -> dict:
    return res(t.ECR_REPOSITORY, name, {
        "imageTagMutability": "IMMUTABLE",
        "imageScanningConfiguration": {"scanOnPush": True},
        "encryptionConfigurations": [{"encryptionType": "KMS", "kmsKey": KEY_ARN}],
        "tags": TAGS, **inputs,
    }, protect=protect)


def ecr_policy(name: str, *statements: dict) -> dict:
    return res(t.ECR_REPOSITORY_POLICY, name, {"repository": "serving", "policy": doc(*statements)})


def endpoint_config(name: str = "endpoint-config", **inputs: Any) -> dict:
    return res(t.SAGEMAKER_ENDPOINT_CONFIGURATION, name, {
        "kmsKeyArn": KEY_ARN,
        "productionVariants": [{"variantName": "blue", "modelName": "model", "initialInstanceCount": 2.0,
                                "instanceType": "ml.m5.large", "initialVariantWeight": 1.0}],
        "dataCaptureConfig": {"enableCapture": True, "initialSamplingPercentage": 10.0,
                              "destinationS3Uri": "s3://artifacts/capture", "kmsKeyId": KEY_ARN,
                              "captureOptions": [{"captureMode": "Input"}, {"captureMode": "Output"}]},
        "tags": TAGS, **inputs,
    })


def sagemaker_model(name: str = "model", **inputs: Any) -> dict:
    return res(t.SAGEMAKER_MODEL, name, {
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution",
        "primaryContainer": {"image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/serving:0.1.0",
                             "environment": {"SERVING_MODEL_URI": "models:/demand@champion"}},
        "enableNetworkIsolation": True,
        "vpcConfig": {"subnets": ["subnet-a", "subnet-b"], "securityGroupIds": ["sg-serving"]},
        "tags": TAGS, **inputs,
    })


def training_step(name: str = "Train", **arguments: Any) -> dict:
    base = {
        "AlgorithmSpecification": {"TrainingImage": "training:0.1.0", "TrainingInputMode": "File"},
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution",
        "OutputDataConfig": {"S3OutputPath": "s3://artifacts/models", "KmsKeyId": KEY_ARN},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30,
                           "VolumeKmsKeyId": KEY_ARN},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    for key, value in arguments.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return {"Name": name, "Type": "Training", "Arguments": base}


def pipeline(name: str = "training-pipeline", *steps: dict) -> dict:
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": list(steps or (training_step(),))}
    return res(t.SAGEMAKER_PIPELINE, name, {
        "pipelineName": name, "pipelineDisplayName": name,
        "roleArn": f"arn:aws:iam::{ACCOUNT}:role/sagemaker-execution",
        "pipelineDefinition": json.dumps(definition), "tags": TAGS,
    })


def log_group(name: str = "serving-logs", **inputs: Any) -> dict:
    return res(t.CLOUDWATCH_LOG_GROUP, name, {"retentionInDays": 90.0, "kmsKeyId": KEY_ARN, "tags": TAGS, **inputs})


def sns_topic(name: str = "alerts", **inputs: Any) -> dict:
    return res(t.SNS_TOPIC, name, {"kmsMasterKeyId": KEY_ARN, "tags": TAGS, **inputs})


BUCKET_READ_WRITE = {
    "Sid": "Artifacts",
    "Effect": "Allow",
    "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
    "Resource": ["arn:aws:s3:::artifacts", "arn:aws:s3:::artifacts/*"],
}
ECR_LOGIN = {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}


def role_policy(name: str = "execution-policy", *statements: dict, as_object: bool = False) -> dict:
    document = doc(*(statements or (BUCKET_READ_WRITE, ECR_LOGIN)))
    return res(t.IAM_ROLE_POLICY, name, {"role": "execution", "policy": json.loads(document) if as_object else document})


SAGEMAKER_TRUST = {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
OIDC = f"arn:aws:iam::{ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC123"
IRSA_TRUST = {
    "Effect": "Allow",
    "Principal": {"Federated": OIDC},
    "Action": "sts:AssumeRoleWithWebIdentity",
    "Condition": {"StringEquals": {
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": "system:serviceaccount:mlops:serving",
        "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:aud": "sts.amazonaws.com",
    }},
}


def iam_role(name: str = "execution", *statements: dict, **inputs: Any) -> dict:
    return res(t.IAM_ROLE, name, {"assumeRolePolicy": doc(*(statements or (SAGEMAKER_TRUST,))), "tags": TAGS, **inputs})


def attachment(name: str, policy_arn: str, type_: str = t.IAM_ROLE_POLICY_ATTACHMENT) -> dict:
    return res(type_, name, {"role": "execution", "policyArn": policy_arn})


def security_group(name: str = "lb", *ingress: dict, tags: dict | None = None) -> dict:
    return res(t.EC2_SECURITY_GROUP, name, {
        "vpcId": "vpc-1", "description": "load balancer",
        "ingress": list(ingress or ({"protocol": "tcp", "fromPort": 8080.0, "toPort": 8080.0, "cidrBlocks": ["10.40.0.0/16"]},)),
        "egress": [{"protocol": "-1", "fromPort": 0.0, "toPort": 0.0, "cidrBlocks": ["0.0.0.0/0"]}],
        "tags": tags if tags is not None else TAGS,
    })


def listener(name: str = "https", **inputs: Any) -> dict:
    return res(t.LB_LISTENER, name, {
        "loadBalancerArn": "lb", "port": 443.0, "protocol": "HTTPS",
        "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06", "certificateArn": "arn:aws:acm:eu-west-1:1:certificate/x",
        "defaultActions": [{"type": "forward", "targetGroupArn": "tg"}], "tags": TAGS, **inputs,
    })


# --- Azure -------------------------------------------------------------------------------------

def resource_group(name: str = "mlops-rg") -> dict:
    return res(t.AZ_RESOURCE_GROUP, name, {"location": "westeurope", "tags": TAGS})


def storage_account(name: str = "mlopsstore", *, protect: bool = True, **inputs: Any) -> dict:
    return res(t.AZ_STORAGE_ACCOUNT, name, {
        "resourceGroupName": "mlops-rg", "kind": "StorageV2", "sku": {"name": "Standard_ZRS"},
        "enableHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
        "allowSharedKeyAccess": False, "encryption": {"requireInfrastructureEncryption": True, "keySource": "Microsoft.Storage"},
        "tags": TAGS, **inputs,
    }, protect=protect)


def blob_container(name: str = "artifacts", **inputs: Any) -> dict:
    return res(t.AZ_BLOB_CONTAINER, name, {"accountName": "mlopsstore", "resourceGroupName": "mlops-rg",
                                           "publicAccess": "None", **inputs})


def key_vault(name: str = "mlops-kv", *, protect: bool = True, **properties: Any) -> dict:
    props = {"tenantId": "tenant", "sku": {"family": "A", "name": "standard"}, "enableRbacAuthorization": True,
             "enableSoftDelete": True, "enablePurgeProtection": True, "softDeleteRetentionInDays": 90.0}
    for key, value in properties.items():
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
    return res(t.AZ_KEY_VAULT, name, {"resourceGroupName": "mlops-rg", "properties": props, "tags": TAGS}, protect=protect)


def container_registry(name: str = "mlopsacr", *, protect: bool = True, **inputs: Any) -> dict:
    return res(t.AZ_CONTAINER_REGISTRY, name, {"resourceGroupName": "mlops-rg", "sku": {"name": "Premium"},
                                               "adminUserEnabled": False, "anonymousPullEnabled": False,
                                               "tags": TAGS, **inputs}, protect=protect)


def aks_cluster(name: str = "aks", **inputs: Any) -> dict:
    return res(t.AZ_MANAGED_CLUSTER, name, {
        "resourceGroupName": "mlops-rg", "dnsPrefix": "mlops", "kubernetesVersion": "1.33",
        "identity": {"type": "SystemAssigned"},
        "aadProfile": {"managed": True, "enableAzureRBAC": True},
        "disableLocalAccounts": True,
        "apiServerAccessProfile": {"enablePrivateCluster": True},
        "agentPoolProfiles": [{"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 3.0,
                               "enableAutoScaling": True, "minCount": 3.0, "maxCount": 10.0,
                               "enableEncryptionAtHost": True}],
        "tags": TAGS, **inputs,
    })


def _role(name: str) -> str:
    """A role definition id as ARM spells it, with the id from Azure's published table
    (policies/data/azure_builtin_roles.json), never retyped here."""
    return f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/{builtin_role_id(name)}"


OWNER = _role("Owner")
CONTRIBUTOR = _role("Contributor")
USER_ACCESS_ADMINISTRATOR = _role("User Access Administrator")
RBAC_ADMINISTRATOR = _role("Role Based Access Control Administrator")
ACR_PULL = _role("AcrPull")


def role_assignment(name: str, role: str, scope: str, *, principal_type: str | None = "ServicePrincipal",
                    scope_ref: dict | None = None) -> dict:
    inputs = {"principalId": "00000000-aaaa-bbbb-cccc-000000000001", "roleDefinitionId": role}
    if principal_type is not None:
        inputs["principalType"] = principal_type
    record = res(t.AZ_ROLE_ASSIGNMENT, name, {**inputs, "scope": scope}, refs={"scope": scope_ref} if scope_ref else None)
    return record


def ml_workspace(name: str = "aml", *, protect: bool = True, **inputs: Any) -> dict:
    return res(t.AZ_ML_WORKSPACE, name, {
        "resourceGroupName": "mlops-rg", "identity": {"type": "SystemAssigned"},
        "storageAccount": f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/mlopsstore",
        "keyVault": f"{RG_ID}/providers/Microsoft.KeyVault/vaults/mlops-kv",
        "publicNetworkAccess": "Disabled", "systemDatastoresAuthMode": "identity", "tags": TAGS, **inputs,
    }, protect=protect)


def online_endpoint(name: str = "endpoint", auth_mode: str | None = "AADToken") -> dict:
    properties = {"publicNetworkAccess": "Enabled"}
    if auth_mode is not None:
        properties["authMode"] = auth_mode
    return res(t.AZ_ML_ONLINE_ENDPOINT, name, {"resourceGroupName": "mlops-rg", "workspaceName": "aml",
                                               "identity": {"type": "SystemAssigned"}, "properties": properties,
                                               "tags": TAGS})


def log_analytics(name: str = "logs", **inputs: Any) -> dict:
    return res(t.AZ_LOG_ANALYTICS_WORKSPACE, name, {"resourceGroupName": "mlops-rg", "sku": {"name": "PerGB2018"},
                                                    "retentionInDays": 90.0, "tags": TAGS, **inputs})


def nsg(name: str = "cluster-nsg", *rules: dict) -> dict:
    return res(t.AZ_NETWORK_SECURITY_GROUP, name, {"resourceGroupName": "mlops-rg", "securityRules": list(rules),
                                                   "tags": TAGS})


def nsg_rule(name: str, port: str, source: str = "Internet", access: str = "Allow", direction: str = "Inbound") -> dict:
    return {"name": name, "priority": 100.0, "direction": direction, "access": access, "protocol": "Tcp",
            "sourceAddressPrefix": source, "sourcePortRange": "*", "destinationAddressPrefix": "*",
            "destinationPortRange": port}


# --- Kubernetes --------------------------------------------------------------------------------

def meta(name: str, namespace: str | None = "mlops") -> dict:
    out = {"name": name, "labels": dict(LABELS)}
    if namespace is not None:
        out["namespace"] = namespace
    return out


def container(name: str = "serving", image: str = "mlops-platform/serving:0.1.0") -> dict:
    probe = {"httpGet": {"path": "/health/live", "port": "http"}, "periodSeconds": 10.0}
    return {
        "name": name, "image": image, "ports": [{"name": "http", "containerPort": 8080.0}],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001.0, "readOnlyRootFilesystem": True,
                            "allowPrivilegeEscalation": False, "privileged": False,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "livenessProbe": probe,
        "readinessProbe": {**probe, "httpGet": {"path": "/health/ready", "port": "http"}},
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def pod_spec(*containers: dict) -> dict:
    return {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001.0, "fsGroup": 10001.0,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": list(containers or (container(),)),
        "volumes": [{"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "256Mi"}}],
    }


def deployment(name: str = "serving", spec: dict | None = None, namespace: str = "mlops") -> dict:
    return res(t.K8S_DEPLOYMENT, name, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name, namespace),
        "spec": {"replicas": 2.0, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}}, "spec": spec or pod_spec()}},
    })


def job(name: str = "train", spec: dict | None = None) -> dict:
    body = spec or pod_spec(_without_probes(container("train", "mlops-platform/training:0.1.0")))
    body = {**body, "restartPolicy": "Never"}
    return res(t.K8S_JOB, name, {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta(name),
                                 "spec": {"backoffLimit": 2.0, "template": {"spec": body}}})


def cron_job(name: str = "retrain", spec: dict | None = None) -> dict:
    body = spec or pod_spec(_without_probes(container("train", "mlops-platform/training:0.1.0")))
    body = {**body, "restartPolicy": "OnFailure"}
    return res(t.K8S_CRON_JOB, name, {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": meta(name),
                                      "spec": {"schedule": "0 3 * * *",
                                               "jobTemplate": {"spec": {"template": {"spec": body}}}}})


def _without_probes(c: dict) -> dict:
    return {k: v for k, v in c.items() if k not in ("livenessProbe", "readinessProbe")}


def pod(name: str = "debug", spec: dict | None = None) -> dict:
    return res(t.K8S_POD, name, {"apiVersion": "v1", "kind": "Pod", "metadata": meta(name), "spec": spec or pod_spec()})


def stateful_set(name: str = "mlflow", spec: dict | None = None) -> dict:
    return res(t.K8S_STATEFUL_SET, name, {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta(name),
                                          "spec": {"serviceName": name, "selector": {"matchLabels": {"app": name}},
                                                   "template": {"spec": spec or pod_spec(container("mlflow"))}}})


def daemon_set(name: str = "node-exporter", spec: dict | None = None) -> dict:
    return res(t.K8S_DAEMON_SET, name, {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name),
                                        "spec": {"selector": {"matchLabels": {"app": name}},
                                                 "template": {"spec": spec or pod_spec(container("exporter"))}}})


def namespace(name: str = "mlops", logical: str | None = None) -> dict:
    return res(t.K8S_NAMESPACE, logical or f"{name}-namespace",
               {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, None)})


def network_policy(name: str, namespace_name: str = "mlops", **spec: Any) -> dict:
    body = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], **spec}
    return res(t.K8S_NETWORK_POLICY, name, {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                                            "metadata": meta(name, namespace_name),
                                            "spec": {k: v for k, v in body.items() if v is not None}})


def isolated_namespace(name: str = "mlops") -> list[dict]:
    return [namespace(name), network_policy(f"{name}-default-deny", name)]


def ingress(name: str = "serving", tls: list | None = None, hosts: tuple[str, ...] = ("serving.example.com",)) -> dict:
    spec = {"ingressClassName": "nginx",
            "rules": [{"host": h, "http": {"paths": [{"path": "/", "pathType": "Prefix",
                                                      "backend": {"service": {"name": "serving", "port": {"number": 80.0}}}}]}}
                      for h in hosts]}
    if tls is None:
        tls = [{"hosts": list(hosts), "secretName": "serving-tls"}]
    if tls:
        spec["tls"] = tls
    return res(t.K8S_INGRESS, name, {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                                     "metadata": meta(name), "spec": spec})


def pvc(name: str = "mlflow-data", *, protect: bool = True) -> dict:
    return res(t.K8S_PVC, name, {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(name),
                                 "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}}}},
               protect=protect)


def aws_provider(name: str = "aws", default_tags: dict | None = None) -> dict:
    inputs = {"region": "eu-west-1"}
    if default_tags is not None:
        inputs["defaultTags"] = {"tags": default_tags}
    record = res("pulumi:providers:aws", name, inputs)
    record["custom"] = True
    return record
