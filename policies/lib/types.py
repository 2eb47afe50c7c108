"""Resource type tokens the rules look at, defined once (pulumi-aws 7, azure-native 3,
kubernetes 4)."""

from __future__ import annotations

# --- AWS -------------------------------------------------------------------------------------
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
# pulumi-aws 7 still ships the V2 spellings (deprecated aliases of the same AWS resources).
S3_BUCKET_V2 = "aws:s3/bucketV2:BucketV2"
S3_BUCKET_SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"
S3_BUCKETS = (S3_BUCKET, S3_BUCKET_V2)
S3_BUCKET_SSES = (S3_BUCKET_SSE, S3_BUCKET_SSE_V2)
EBS_VOLUME = "aws:ebs/volume:Volume"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EC2_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
EC2_DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
VPC_SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
EKS_ADDON = "aws:eks/addon:Addon"
EKS_ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
EKS_ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
ECR_REGISTRY_SCANNING_CONFIGURATION = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
ECR_PUBLIC_REPOSITORY = "aws:ecrpublic/repository:Repository"
SAGEMAKER_ENDPOINT_CONFIGURATION = "aws:sagemaker/endpointConfiguration:EndpointConfiguration"
SAGEMAKER_MODEL = "aws:sagemaker/model:Model"
SAGEMAKER_PIPELINE = "aws:sagemaker/pipeline:Pipeline"
SAGEMAKER_NOTEBOOK_INSTANCE = "aws:sagemaker/notebookInstance:NotebookInstance"
SAGEMAKER_DOMAIN = "aws:sagemaker/domain:Domain"
CLOUDWATCH_LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SNS_TOPIC = "aws:sns/topic:Topic"
KMS_KEY = "aws:kms/key:Key"
IAM_POLICY = "aws:iam/policy:Policy"
IAM_ROLE = "aws:iam/role:Role"
IAM_ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
IAM_USER_POLICY = "aws:iam/userPolicy:UserPolicy"
IAM_GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy"
IAM_ROLE_POLICIES_EXCLUSIVE = "aws:iam/rolePoliciesExclusive:RolePoliciesExclusive"
IAM_ROLE_POLICY_ATTACHMENTS_EXCLUSIVE = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
IAM_ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
IAM_USER_POLICY_ATTACHMENT = "aws:iam/userPolicyAttachment:UserPolicyAttachment"
IAM_GROUP_POLICY_ATTACHMENT = "aws:iam/groupPolicyAttachment:GroupPolicyAttachment"
IAM_POLICY_ATTACHMENT = "aws:iam/policyAttachment:PolicyAttachment"
LB_LISTENER = "aws:lb/listener:Listener"
ALB_LISTENER = "aws:alb/listener:Listener"

#: Identity policies (attached to a principal); resource policies (bucket, key) are not here.
IAM_IDENTITY_POLICIES = (IAM_POLICY, IAM_ROLE_POLICY, IAM_USER_POLICY, IAM_GROUP_POLICY)
IAM_ATTACHMENTS = (
    IAM_ROLE_POLICY_ATTACHMENT,
    IAM_USER_POLICY_ATTACHMENT,
    IAM_GROUP_POLICY_ATTACHMENT,
    IAM_POLICY_ATTACHMENT,
)

# --- Azure -----------------------------------------------------------------------------------
AZ_RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
AZ_STORAGE_ACCOUNT = "azure-native:storage:StorageAccount"
AZ_BLOB_CONTAINER = "azure-native:storage:BlobContainer"
AZ_KEY_VAULT = "azure-native:keyvault:Vault"
AZ_CONTAINER_REGISTRY = "azure-native:containerregistry:Registry"
AZ_MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AZ_AGENT_POOL = "azure-native:containerservice:AgentPool"
AZ_ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
AZ_ML_WORKSPACE = "azure-native:machinelearningservices:Workspace"
AZ_ML_COMPUTE = "azure-native:machinelearningservices:Compute"
AZ_ML_ONLINE_ENDPOINT = "azure-native:machinelearningservices:OnlineEndpoint"
AZ_LOG_ANALYTICS_WORKSPACE = "azure-native:operationalinsights:Workspace"
AZ_NETWORK_SECURITY_GROUP = "azure-native:network:NetworkSecurityGroup"
AZ_SECURITY_RULE = "azure-native:network:SecurityRule"

# --- Kubernetes ------------------------------------------------------------------------------
K8S_NAMESPACE = "kubernetes:core/v1:Namespace"
K8S_POD = "kubernetes:core/v1:Pod"
K8S_PVC = "kubernetes:core/v1:PersistentVolumeClaim"
K8S_DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S_STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
K8S_DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
K8S_REPLICA_SET = "kubernetes:apps/v1:ReplicaSet"
K8S_JOB = "kubernetes:batch/v1:Job"
K8S_CRON_JOB = "kubernetes:batch/v1:CronJob"
K8S_NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
K8S_INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
K8S_HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_SERVICE = "kubernetes:core/v1:Service"
K8S_SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
K8S_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
K8S_CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
K8S_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
K8S_CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"

#: Server-side-apply patches of the workloads (``DeploymentPatch``...): the same object shape,
#: every field optional; a patch can make a workload insecure, so the pod rules read them too.
K8S_POD_PATCH = "kubernetes:core/v1:PodPatch"
K8S_DEPLOYMENT_PATCH = "kubernetes:apps/v1:DeploymentPatch"
K8S_STATEFUL_SET_PATCH = "kubernetes:apps/v1:StatefulSetPatch"
K8S_DAEMON_SET_PATCH = "kubernetes:apps/v1:DaemonSetPatch"
K8S_REPLICA_SET_PATCH = "kubernetes:apps/v1:ReplicaSetPatch"
K8S_JOB_PATCH = "kubernetes:batch/v1:JobPatch"
K8S_CRON_JOB_PATCH = "kubernetes:batch/v1:CronJobPatch"
K8S_INGRESS_PATCH = "kubernetes:networking.k8s.io/v1:IngressPatch"
K8S_SERVICE_PATCH = "kubernetes:core/v1:ServicePatch"
K8S_WORKLOADS = (K8S_POD, K8S_DEPLOYMENT, K8S_STATEFUL_SET, K8S_DAEMON_SET, K8S_REPLICA_SET, K8S_JOB, K8S_CRON_JOB)
K8S_WORKLOAD_PATCHES = (K8S_POD_PATCH, K8S_DEPLOYMENT_PATCH, K8S_STATEFUL_SET_PATCH, K8S_DAEMON_SET_PATCH,
                        K8S_REPLICA_SET_PATCH, K8S_JOB_PATCH, K8S_CRON_JOB_PATCH)
