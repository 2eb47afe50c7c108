"""Resource type tokens the rules look at, defined once (pulumi-aws 7, azure-native 3,
kubernetes 4)."""

from __future__ import annotations

# --- AWS -------------------------------------------------------------------------------------
S3_BUCKET = "aws:s3/bucket:Bucket"
S3_BUCKET_SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
S3_BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
EBS_VOLUME = "aws:ebs/volume:Volume"
EC2_INSTANCE = "aws:ec2/instance:Instance"
EC2_LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
EC2_SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EC2_SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
VPC_SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
EKS_ACCESS_POLICY_ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
ECR_REPOSITORY = "aws:ecr/repository:Repository"
ECR_REPOSITORY_POLICY = "aws:ecr/repositoryPolicy:RepositoryPolicy"
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
