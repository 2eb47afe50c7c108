"""One mutation of the secure platform per test, with the exact verdict it must produce
(pulumi-policy-aws style): which rule, which resource, which message."""

from __future__ import annotations

import json

from policies.runner import evaluate
from tests.policies import builders as b
from tests.policies import platforms as p

KEY_FIX = "set kmsKeyId to the stack's KMS key ARN (its key policy must allow logs.<region>.amazonaws.com)"


def only(resources: list[dict], config: dict | None = None) -> tuple[str, str, str]:
    violations = evaluate(resources, p.PROD if config is None else config)
    assert len(violations) == 1, [(v.policy, v.name, v.message) for v in violations]
    (v,) = violations
    return v.policy, v.name, v.message


def without(resources: list[dict], name: str) -> list[dict]:
    return [r for r in resources if r["name"] != name]


def test_the_secure_platform_passes_every_rule():
    assert evaluate(p.everything(), p.PROD) == []


# --- AWS -----------------------------------------------------------------------------------------

def test_bucket_without_encryption_config():
    assert only(without(p.aws(), "artifacts-encryption")) == (
        "aws-s3-bucket-encryption", "artifacts",
        "S3 bucket 'artifacts' has no default server-side encryption; add an "
        "aws.s3.BucketServerSideEncryptionConfiguration for it with sseAlgorithm 'aws:kms' and kmsMasterKeyId set "
        "to the stack's customer-managed KMS key.",
    )


def test_bucket_with_sse_s3_in_prod():
    resources = p.replace(p.aws(), "artifacts-encryption",
                          {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]})
    assert only(resources) == (
        "aws-s3-bucket-encryption", "artifacts",
        "S3 bucket 'artifacts' is not encrypted with a customer-managed KMS key, which prod requires; set "
        "sseAlgorithm 'aws:kms' and kmsMasterKeyId to the stack's KMS key.",
    )


def test_bucket_without_tls_only_policy():
    assert only(without(p.aws(), "artifacts-policy")) == (
        "aws-s3-bucket-tls-only", "artifacts",
        "S3 bucket 'artifacts' accepts requests without TLS on its objects; attach an aws.s3.BucketPolicy with a statement "
        "{Effect: Deny, Principal: '*', Action: 's3:*', Resource: [bucket ARN, bucket ARN/*], Condition: "
        "{Bool: {'aws:SecureTransport': 'false'}}}.",
    )


def test_public_bucket():
    resources = p.replace(p.aws(), "artifacts-public-access-block", {"blockPublicPolicy": False, "restrictPublicBuckets": False})
    assert only(resources) == (
        "aws-s3-bucket-public-access-block", "artifacts",
        "S3 bucket 'artifacts' public access block leaves blockPublicPolicy, restrictPublicBuckets off; set all "
        "four settings to true.",
    )


def test_unencrypted_volume():
    assert only(p.replace(p.aws(), "scratch", {"encrypted": False})) == (
        "aws-ebs-encryption", "scratch",
        "EBS volume 'scratch' is not encrypted; set encrypted: true (and kmsKeyId to the stack's KMS key) or enable "
        "aws.ebs.EncryptionByDefault.",
    )


def test_eks_without_secrets_encryption():
    assert only(p.replace(p.aws(), "cluster", {"encryptionConfig": None})) == (
        "aws-eks-secrets-encryption", "cluster",
        "EKS cluster 'cluster' does not envelope-encrypt secrets with KMS; set encryptionConfig={resources: "
        "['secrets'], provider: {keyArn: <the stack's KMS key ARN>}}.",
    )


def test_eks_public_endpoint_open_to_world():
    resources = p.replace(p.aws(), "cluster", {"vpcConfig": {"endpointPublicAccess": True}})
    assert only(resources) == (
        "aws-eks-public-endpoint", "cluster",
        "EKS cluster 'cluster' has a public API endpoint open to the internet; set vpcConfig.endpointPublicAccess: "
        "false (with endpointPrivateAccess: true), or list the allowed publicAccessCidrs.",
    )


def test_eks_cluster_admin_for_another_role():
    resources = p.replace(p.aws(), "ci-edit", {"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"})
    assert only(resources) == (
        "aws-eks-cluster-admin", "ci-edit",
        f"EKS access policy association 'ci-edit' grants AmazonEKSClusterAdminPolicy to arn:aws:iam::{b.ACCOUNT}:role/ci, "
        "which is not the deployer; grant a narrower access policy (AmazonEKSViewPolicy / AmazonEKSEditPolicy scoped "
        "to namespaces), or list the principal in this rule's clusterAdminPrincipalArns setting.",
    )


def test_ecr_without_kms():
    assert only(p.replace(p.aws(), "serving", {"encryptionConfigurations": None})) == (
        "aws-ecr-kms", "serving",
        "ECR repository 'serving' is not KMS-encrypted; set encryptionConfigurations=[{encryptionType: 'KMS', "
        "kmsKey: <the stack's KMS key ARN>}].",
    )


def test_ecr_policy_for_everyone():
    policy = b.doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:BatchGetImage"})
    assert only(p.replace(p.aws(), "serving-policy", {"policy": policy})) == (
        "aws-ecr-not-public", "serving-policy",
        "ECR repository policy 'serving-policy' allows any principal; name the account or role that pulls (e.g. the "
        "node role) as Principal, or add a condition such as aws:PrincipalOrgID.",
    )


def test_endpoint_config_without_kms():
    assert only(p.replace(p.aws(), "endpoint-config", {"kmsKeyArn": None})) == (
        "aws-sagemaker-endpoint-kms", "endpoint-config",
        "SageMaker endpoint configuration 'endpoint-config' does not encrypt its storage with KMS; set kmsKeyArn to the "
        "stack's KMS key ARN (and dataCaptureConfig.kmsKeyId when capturing data).",
    )


def test_training_step_without_output_key():
    definition = {"Version": "2020-12-01", "Steps": [b.training_step("Fit", OutputDataConfig={"S3OutputPath": "s3://a/m"})]}
    assert only(p.replace(p.aws(), "training-pipeline", {"pipelineDefinition": json.dumps(definition)})) == (
        "aws-sagemaker-training-kms", "training-pipeline",
        "SageMaker pipeline 'training-pipeline' training step 'Fit' leaves OutputDataConfig.KmsKeyId unset; set "
        "ResourceConfig.VolumeKmsKeyId and OutputDataConfig.KmsKeyId to the stack's KMS key.",
    )


def test_model_without_network_isolation():
    assert only(p.replace(p.aws(), "model", {"enableNetworkIsolation": False})) == (
        "aws-sagemaker-model-isolation", "model",
        "SageMaker model 'model': network isolation is off; set enableNetworkIsolation: true and vpcConfig={subnets: "
        "<private subnet ids>, securityGroupIds: [...]}.",
    )


def test_log_group_without_kms():
    assert only(p.replace(p.aws(), "serving-logs", {"kmsKeyId": None})) == (
        "aws-cloudwatch-log-group-kms", "serving-logs",
        f"CloudWatch log group 'serving-logs' is not encrypted with KMS; {KEY_FIX}.",
    )


def test_topic_without_kms():
    assert only(p.replace(p.aws(), "alerts", {"kmsMasterKeyId": None})) == (
        "aws-sns-topic-kms", "alerts",
        "SNS topic 'alerts' is not encrypted with KMS; set kmsMasterKeyId to the stack's KMS key (its key policy must "
        "allow cloudwatch.amazonaws.com to use it).",
    )


def test_star_policy():
    policy = b.doc({"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"})
    violations = evaluate(p.replace(p.aws(), "execution-policy", {"policy": policy}), p.PROD)
    assert [(v.policy, v.name, v.message) for v in violations] == [
        ("aws-iam-no-wildcards", "execution-policy",
         "IAM policy 'execution-policy': statement (Sid Everything) allows * on Resource '*'; name the actions and the "
         "resource ARNs they need (the stack's bucket, key, repository...)."),
        ("aws-iam-no-wildcards", "execution-policy",
         "IAM policy 'execution-policy': statement (Sid Everything) allows wildcard action(s) *; name the actions and "
         "the resource ARNs they need (the stack's bucket, key, repository...)."),
    ]


def test_administrator_access_attachment():
    resources = p.replace(p.aws(), "execution-attachment", {"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
    assert only(resources) == (
        "aws-iam-no-admin-policies", "execution-attachment",
        "'execution-attachment' attaches the AWS managed AdministratorAccess policy; attach a customer-managed policy "
        "that names only the actions and resources the principal needs.",
    )


def test_sagemaker_full_access_attachment():
    resources = p.replace(p.aws(), "execution-attachment",
                          {"policyArn": "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"})
    assert only(resources) == (
        "aws-iam-no-full-access-policies", "execution-attachment",
        "'execution-attachment' attaches the AWS managed AmazonSageMakerFullAccess policy; replace it with a "
        "customer-managed policy scoped to the stack's bucket, key and repositories.",
    )


def test_role_assumable_by_anyone():
    trust = b.doc({"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"})
    assert only(p.replace(p.aws(), "execution", {"assumeRolePolicy": trust})) == (
        "aws-iam-role-trust", "execution",
        "IAM role 'execution' lets any principal ('*') assume it; name the intended principal (service, role ARN, or "
        "OIDC provider with a :sub condition naming the service account).",
    )


def test_security_group_open_ssh():
    resources = p.replace(p.aws(), "lb", {"ingress": [{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0,
                                                       "cidrBlocks": ["0.0.0.0/0"]}]})
    assert only(resources) == (
        "aws-security-group-public-ingress", "lb",
        "Security group 'lb' ingress rule 0 allows port 22 from the internet; restrict the source to known "
        "CIDRs or security groups; only TCP 443 on a load balancer tagged mlops-platform/public-load-balancer='true' "
        "may be open to the internet.",
    )


def test_plain_http_listener():
    assert only(p.replace(p.aws(), "https", {"protocol": "HTTP", "port": 80.0})) == (
        "aws-lb-listener-https", "https",
        "Load balancer listener 'https' serves plain HTTP; use protocol HTTPS (with certificateArn and a TLS 1.2+ "
        "sslPolicy), or make the HTTP listener redirect to HTTPS.",
    )


# --- Azure ---------------------------------------------------------------------------------------

def test_storage_allowing_http():
    assert only(p.replace(p.azure(), "mlopsstore", {"enableHttpsTrafficOnly": False})) == (
        "azure-storage-secure-transport", "mlopsstore",
        "Storage account 'mlopsstore' does not enforce HTTPS only; set enableHttpsTrafficOnly: true and "
        "minimumTlsVersion: 'TLS1_2'.",
    )


def test_public_blob_container():
    assert only(p.replace(p.azure(), "artifacts", {"publicAccess": "Container"})) == (
        "azure-storage-no-public-blob", "artifacts",
        "Blob container 'artifacts' allows anonymous Container access; set allowBlobPublicAccess: false on the account "
        "and publicAccess: 'None' on its containers.",
    )


def test_storage_with_shared_key():
    assert only(p.replace(p.azure(), "mlopsstore", {"allowSharedKeyAccess": True})) == (
        "azure-storage-no-shared-key", "mlopsstore",
        "Storage account 'mlopsstore' allows shared-key access; set allowSharedKeyAccess: false (and the AML "
        "workspace's systemDatastoresAuthMode: 'identity').",
    )


def test_storage_without_infrastructure_encryption_is_advisory():
    violations = evaluate(p.replace(p.azure(), "mlopsstore", {"encryption": None}), p.PROD)
    assert [(v.policy, v.enforcement, v.name, v.message) for v in violations] == [(
        "azure-storage-infrastructure-encryption", "advisory", "mlopsstore",
        "Storage account 'mlopsstore' has no infrastructure (double) encryption; set "
        "encryption.requireInfrastructureEncryption: true when creating the account.",
    )]


def test_vault_without_purge_protection():
    resources = p.replace(p.azure(), "mlops-kv", {"properties": {"enablePurgeProtection": False}})
    assert only(resources) == (
        "azure-key-vault-purge-protection", "mlops-kv",
        "Key Vault 'mlops-kv' has purge protection off; set properties.enablePurgeProtection: true and leave "
        "enableSoftDelete on.",
    )


def test_registry_admin_user():
    assert only(p.replace(p.azure(), "mlopsacr", {"adminUserEnabled": True})) == (
        "azure-acr-admin-disabled", "mlopsacr",
        "Container registry 'mlopsacr' has the admin user on; set adminUserEnabled: false and grant AcrPull to the "
        "cluster's kubelet identity.",
    )


def test_registry_anonymous_pull():
    assert only(p.replace(p.azure(), "mlopsacr", {"anonymousPullEnabled": True})) == (
        "azure-acr-not-public", "mlopsacr",
        "Container registry 'mlopsacr' allows anonymous pull; set anonymousPullEnabled: false and grant AcrPull to the "
        "identities that pull.",
    )


def test_aks_local_accounts():
    assert only(p.replace(p.azure(), "aks", {"disableLocalAccounts": False})) == (
        "azure-aks-local-accounts-disabled", "aks",
        "AKS cluster 'aks' keeps local accounts (a static cluster-admin kubeconfig); set disableLocalAccounts: true "
        "with aadProfile={managed: true, enableAzureRBAC: true}.",
    )


def test_aks_public_in_prod():
    resources = p.replace(p.azure(), "aks", {"apiServerAccessProfile": {"enablePrivateCluster": False}})
    assert only(resources) == (
        "azure-aks-private-cluster", "aks",
        "AKS cluster 'aks' has a public API server in prod; set apiServerAccessProfile.enablePrivateCluster: true "
        "(outside prod: authorizedIPRanges).",
    )


def test_aks_pool_without_host_encryption_is_advisory():
    pools = [{"name": "system", "mode": "System", "vmSize": "Standard_D4s_v5", "count": 3.0}]
    violations = evaluate(p.replace(p.azure(), "aks", {"agentPoolProfiles": pools}), p.PROD)
    assert [(v.policy, v.enforcement, v.message) for v in violations] == [(
        "azure-aks-host-encryption", "advisory",
        "AKS cluster 'aks' node pool 'system' does not encrypt at host; set enableEncryptionAtHost: true on every node "
        "pool (or diskEncryptionSetID on the cluster).",
    )]


def test_contributor_on_resource_group():
    resources = p.replace(p.azure(), "acr-pull", {"roleDefinitionId": b.CONTRIBUTOR, "scope": b.RG_ID})
    assert only(resources) == (
        "azure-role-assignment-scope", "acr-pull",
        f"Role assignment 'acr-pull' makes a workload identity Contributor of {b.RG_ID}; assign a narrower role "
        "(AcrPull, Storage Blob Data Contributor, AzureML Data Scientist...) scoped to the one resource.",
    )


def test_public_ml_workspace_in_prod():
    assert only(p.replace(p.azure(), "aml", {"publicNetworkAccess": "Enabled"})) == (
        "azure-ml-workspace-private", "aml",
        "Azure ML workspace 'aml' is reachable from the public internet in prod; set publicNetworkAccess: 'Disabled' "
        "and reach the workspace through a private endpoint.",
    )


def test_online_endpoint_without_auth_mode():
    assert only(p.replace(p.azure(), "endpoint", {"properties": {"authMode": None}})) == (
        "azure-ml-endpoint-auth", "endpoint",
        "Azure ML online endpoint 'endpoint' has no auth mode, not one of Key, AADToken; set properties.authMode to "
        "'AADToken' (or 'Key').",
    )


def test_nsg_open_ssh():
    resources = p.replace(p.azure(), "cluster-nsg", {"securityRules": [b.nsg_rule("ssh", "22")]})
    assert only(resources) == (
        "azure-nsg-public-ingress", "cluster-nsg",
        "Network security group 'cluster-nsg' rule 'ssh' allows inbound port(s) 22 from the internet; restrict "
        "sourceAddressPrefix to known ranges or service tags (only port 443 may be open to the internet).",
    )


# --- Kubernetes ----------------------------------------------------------------------------------

def _set(**changes):
    def change(container, pod):
        container["securityContext"].update(changes)
    return change


def test_container_running_as_root():
    assert only(p.container_patch(p.kubernetes(), "serving", _set(runAsUser=0.0))) == (
        "k8s-run-as-non-root", "serving",
        "Deployment 'serving' container 'serving' runs as root (runAsUser 0); set securityContext.runAsNonRoot: true "
        "and a non-zero runAsUser (on the container or the pod).",
    )


def test_writable_root_filesystem():
    assert only(p.container_patch(p.kubernetes(), "mlflow", _set(readOnlyRootFilesystem=False))) == (
        "k8s-read-only-root-filesystem", "mlflow",
        "StatefulSet 'mlflow' container 'mlflow' has a writable root filesystem; set "
        "securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes.",
    )


def test_privileged_pod():
    assert only(p.container_patch(p.kubernetes(), "retrain", _set(privileged=True))) == (
        "k8s-no-privilege-escalation", "retrain",
        "CronJob 'retrain' container 'train' is privileged (full access to the node); set "
        "securityContext.allowPrivilegeEscalation: false and privileged: false.",
    )


def test_capabilities_not_dropped():
    assert only(p.container_patch(p.kubernetes(), "train", _set(capabilities={"drop": ["NET_RAW"]}))) == (
        "k8s-drop-all-capabilities", "train",
        "Job 'train' container 'train' does not drop all capabilities; set securityContext.capabilities.drop: ['ALL'] "
        "and add nothing but NET_BIND_SERVICE.",
    )


def test_host_network():
    def change(container, pod):
        pod["hostNetwork"] = True
    assert only(p.container_patch(p.kubernetes(), "serving", change)) == (
        "k8s-no-host-namespaces", "serving",
        "Deployment 'serving' shares the node's namespaces (hostNetwork); remove hostNetwork/hostPID/hostIPC (or set "
        "them false) from the pod spec.",
    )


def test_host_path_volume():
    def change(container, pod):
        pod["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})
    assert only(p.container_patch(p.kubernetes(), "serving", change)) == (
        "k8s-no-host-path", "serving",
        "Deployment 'serving' mounts hostPath /var/run/docker.sock as volume 'docker'; use an emptyDir, a "
        "ConfigMap/Secret or a PersistentVolumeClaim instead.",
    )


def test_missing_memory_limit():
    def change(container, pod):
        del container["resources"]["limits"]["memory"]
    assert only(p.container_patch(p.kubernetes(), "serving", change)) == (
        "k8s-resources-set", "serving",
        "Deployment 'serving' container 'serving' has no limits.memory; set resources.requests and resources.limits "
        "for cpu and memory.",
    )


def test_missing_liveness_probe():
    def change(container, pod):
        del container["livenessProbe"]
    assert only(p.container_patch(p.kubernetes(), "serving", change)) == (
        "k8s-probes-set", "serving",
        "Deployment 'serving' container 'serving' has no livenessProbe; add readinessProbe and livenessProbe (e.g. "
        "httpGet on /health/ready and /health/live).",
    )


def test_latest_image():
    def change(container, pod):
        container["image"] = "mlops-platform/serving:latest"
    assert only(p.container_patch(p.kubernetes(), "serving", change)) == (
        "k8s-image-pinned", "serving",
        "Deployment 'serving' container 'serving' uses image 'mlops-platform/serving:latest' (latest); pin the image "
        "by a version tag (repo/image:1.2.3) or a digest (repo/image@sha256:...).",
    )


def test_namespace_without_default_deny():
    assert only(without(p.kubernetes(), "mlops-default-deny")) == (
        "k8s-namespace-default-deny", "mlops-namespace",
        "Namespace 'mlops' has no default-deny NetworkPolicy for Ingress and Egress; add a NetworkPolicy in it with "
        "podSelector {} and policyTypes ['Ingress', 'Egress'] and no rules.",
    )


def test_ingress_without_tls():
    assert only(p.replace(p.kubernetes(), "serving-ingress", {"spec": {"tls": None}})) == (
        "k8s-ingress-tls", "serving-ingress",
        "Ingress 'serving-ingress' serves plain HTTP (no spec.tls); add spec.tls with a secretName (e.g. from cert-manager) "
        "listing every host.",
    )


# --- Operations ----------------------------------------------------------------------------------

def test_missing_cost_center_tag():
    resources = p.replace(p.aws(), "key", {"tags": {"cost-center": None}})
    assert only(resources) == (
        "required-tags", "key",
        "'key' (aws:kms/key:Key) lacks tags cost-center; pass tags=components.tags.standard_tags(...) (or set the AWS "
        "provider's defaultTags).",
    )


def test_log_group_without_retention():
    assert only(p.replace(p.aws(), "serving-logs", {"retentionInDays": None})) == (
        "log-retention", "serving-logs",
        "CloudWatch log group 'serving-logs' keeps logs forever (no retention); set retentionInDays (from the stack's "
        "logRetentionDays).",
    )


def test_unprotected_bucket_in_prod():
    resources = [dict(r, protect=False) if r["name"] == "artifacts" else r for r in p.aws()]
    assert only(resources) == (
        "data-stores-protected", "artifacts",
        "S3 bucket 'artifacts' is not protected in prod; set protectData: true in the stack config "
        "(ResourceOptions(protect=True, retain_on_delete=True)).",
    )
