"""Cluster on AWS: EKS with envelope encryption, a private API endpoint, access entries, Pod
Identity, managed node groups on a hardened launch template, core add-ons and control-plane logs.

Then, through the cluster's own Kubernetes provider (kubeconfig exec ``aws eks get-token``), the
platform namespace and its default-deny NetworkPolicies (components/kubernetes/tenancy.py):
on EKS the namespace cannot exist before the cluster does. The VPC CNI runs with its network
policy agent on, so those policies are enforced (EKS User Guide, "Limit pod traffic with
Kubernetes network policies").
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from ..kubernetes.tenancy import create_tenancy
from ..tags import kubernetes_labels
from .common import AwsContext, allow, service_trust

DEFAULT_INSTANCE_TYPE = "t3.large"  # cheap default; prod sets nodeSize
AMI_TYPE = "AL2023_x86_64_STANDARD"
#: Control-plane logs the issue asks for; controllerManager/scheduler add cost and little signal.
LOG_TYPES = ("api", "audit", "authenticator")
POD_IDENTITY_TRUST_ACTIONS = ("sts:AssumeRole", "sts:TagSession")
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
SPOT_TAINT = "mlops-platform/spot"


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (AWS CLI v2), for users and CI.

    The token is minted from whatever AWS credentials the caller has; they must map to an access
    entry (the deployer role, or one you add).
    """
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "users": [{"name": cluster_name, "user": user}],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
        },
        indent=2,
    )


def _check(ctx: AwsContext) -> None:
    if not ctx.options["deployer_role_arn"]:
        ctx.fail("aws.deployer_role_arn", "", "the IAM role ARN that runs `pulumi up` (it is the only cluster admin)")
    for cidr in ctx.options["public_access_cidrs"]:
        if cidr.endswith("/0"):
            ctx.fail("aws.public_access_cidrs", cidr, "specific CIDRs; never a /0")


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    _check(ctx)
    cluster_name = ctx.cloud("eks")
    log_group_name = f"/aws/eks/{cluster_name}/cluster"  # the name EKS writes to (fixed by EKS)
    key = ctx.kms_key("cluster", f"EKS {cluster_name}: Kubernetes secrets and control-plane logs",
                      [ctx.logs_service_statement([log_group_name])])
    log_group = ctx.log_group("control-plane", log_group_name, ctx.options["log_retention_days"], key)
    cluster_role, attachments = _cluster_role(ctx, key)
    cluster = _cluster(ctx, settings, cluster_name, cluster_role, key, [log_group, *attachments])
    admin = _access(ctx, cluster)
    node_role, node_groups = _nodes(ctx, settings, cluster)
    _addons(ctx, cluster, node_groups)

    config = pulumi.Output.secret(
        pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data).apply(
            lambda a: kubeconfig(a[0], a[1], a[2], ctx.region)
        )
    )
    provider = k8s.Provider(
        f"{name}-k8s",
        k8s.ProviderArgs(kubeconfig=config, enable_server_side_apply=True),
        opts=pulumi.ResourceOptions(parent=component, depends_on=[admin]),
    )
    labels = kubernetes_labels(settings.tags)
    tenancy = create_tenancy(name, settings.namespace, labels, component, provider=provider)
    _storage_class(name, labels, component, provider)
    return {
        "cluster_name": cluster.name,
        "cluster_endpoint": cluster.endpoint,
        "kubeconfig": config,
        "namespace": tenancy.name,
        "oidc_issuer_url": cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else ""),
        "node_identity": node_role.arn,
        "provider": provider,
    }


def _storage_class(name: str, labels: dict[str, str], component: Any, provider: k8s.Provider) -> None:
    """The default StorageClass: gp3 through the EBS CSI driver, encrypted. EKS 1.30+ marks
    no class as default, so without it PersistentVolumeClaims (Prometheus) stay Pending."""
    k8s.storage.v1.StorageClass(
        f"{name}-gp3",
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name="gp3-encrypted",
            labels=labels,
            annotations={"storageclass.kubernetes.io/is-default-class": "true"},
        ),
        provisioner="ebs.csi.aws.com",
        parameters={"type": "gp3", "encrypted": "true"},
        volume_binding_mode="WaitForFirstConsumer",
        allow_volume_expansion=True,
        reclaim_policy="Delete",
        opts=pulumi.ResourceOptions(parent=component, provider=provider),
    )


def _cluster_role(ctx: AwsContext, key: aws.kms.Key) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
    role = ctx.role("cluster", service_trust(["eks.amazonaws.com"], POD_IDENTITY_TRUST_ACTIONS), "EKS control plane")
    managed = ctx.managed_policy("cluster", role, "AmazonEKSClusterPolicy")
    # Envelope encryption of secrets: EKS uses this key through the cluster role.
    inline = ctx.role_policy(
        "cluster-kms", role, [allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants", "kms:CreateGrant"], [key.arn])]
    )
    return role, [managed, inline]


def _cluster(
    ctx: AwsContext, settings: Any, cluster_name: str, role: aws.iam.Role, key: aws.kms.Key, after: list[pulumi.Resource]
) -> aws.eks.Cluster:
    cidrs = list(ctx.options["public_access_cidrs"])
    return aws.eks.Cluster(
        f"{ctx.name}-eks",
        aws.eks.ClusterArgs(
            name=cluster_name,
            version=settings.kubernetes_version,
            role_arn=role.arn,
            vpc_config=aws.eks.ClusterVpcConfigArgs(
                subnet_ids=settings.private_subnet_ids,
                endpoint_private_access=True,
                # Public endpoint only when an allow-list is configured, and then only for it.
                endpoint_public_access=bool(cidrs),
                public_access_cidrs=cidrs or None,
            ),
            access_config=aws.eks.ClusterAccessConfigArgs(
                authentication_mode="API",  # access entries only: no aws-auth ConfigMap, ever
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            encryption_config=aws.eks.ClusterEncryptionConfigArgs(
                provider=aws.eks.ClusterEncryptionConfigProviderArgs(key_arn=key.arn),
                resources=["secrets"],
            ),
            enabled_cluster_log_types=list(LOG_TYPES),
            # The add-ons below are EKS-managed; nothing unmanaged is bootstrapped beside them.
            bootstrap_self_managed_addons=False,
            # Standard support only: extended support costs six times the control-plane price.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            deletion_protection=ctx.protect,
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(depends_on=after),
    )


def _access(ctx: AwsContext, cluster: aws.eks.Cluster) -> aws.eks.AccessPolicyAssociation:
    """The deployer role, and nobody else, is cluster admin (an explicit access entry)."""
    deployer = ctx.options["deployer_role_arn"]
    entry = aws.eks.AccessEntry(
        f"{ctx.name}-deployer-access",
        aws.eks.AccessEntryArgs(cluster_name=cluster.name, principal_arn=deployer, type="STANDARD", tags=ctx.tagged()),
        opts=ctx.opts(),
    )
    return aws.eks.AccessPolicyAssociation(
        f"{ctx.name}-deployer-admin",
        aws.eks.AccessPolicyAssociationArgs(
            cluster_name=cluster.name,
            principal_arn=entry.principal_arn,
            policy_arn=ctx.partition.apply(lambda p: f"arn:{p}:eks::aws:cluster-access-policy/{ADMIN_POLICY}"),
            access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster"),
        ),
        opts=ctx.opts(),
    )


def _launch_template(ctx: AwsContext) -> aws.ec2.LaunchTemplate:
    size = ctx.options["node_disk_size_gib"]
    return aws.ec2.LaunchTemplate(
        f"{ctx.name}-nodes-lt",
        aws.ec2.LaunchTemplateArgs(
            name=ctx.cloud("aws", "nodes"),
            description="EKS nodes: IMDSv2 only, encrypted gp3 root volume",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",  # IMDSv2 only
                # One hop: pods cannot reach the node's credentials; they use Pod Identity.
                http_put_response_hop_limit=1,
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name="/dev/xvda",
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=size, volume_type="gp3", encrypted="true", delete_on_termination="true"
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=ctx.tagged(f"{ctx.name}-node"))
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=ctx.tagged(),
        ),
        opts=ctx.opts(),
    )


def _nodes(ctx: AwsContext, settings: Any, cluster: aws.eks.Cluster) -> tuple[aws.iam.Role, list[aws.eks.NodeGroup]]:
    role = ctx.role("nodes", service_trust(["ec2.amazonaws.com"]), "EKS managed nodes")
    attachments = [
        ctx.managed_policy("nodes", role, "AmazonEKSWorkerNodePolicy"),
        ctx.managed_policy("nodes", role, "AmazonEC2ContainerRegistryPullOnly"),
    ]
    template = _launch_template(ctx)
    launch = aws.eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str))
    groups = [
        aws.eks.NodeGroup(
            f"{ctx.name}-ondemand",
            aws.eks.NodeGroupArgs(
                cluster_name=cluster.name,
                # A prefix, not a name: changing the instance type replaces the group, and the
                # new one must exist before the old one drains.
                node_group_name_prefix=ctx.cloud("aws_prefix", "ondemand") + "-",
                node_role_arn=role.arn,
                subnet_ids=settings.private_subnet_ids,
                ami_type=AMI_TYPE,
                capacity_type="ON_DEMAND",
                instance_types=[settings.node_size or DEFAULT_INSTANCE_TYPE],
                launch_template=launch,
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                    desired_size=settings.node_count, min_size=settings.node_min_count, max_size=settings.node_max_count
                ),
                update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels={"mlops-platform/capacity": "on-demand"},
                tags=ctx.tagged(),
            ),
            # The cluster autoscaler owns the desired size once the group exists.
            opts=ctx.opts(depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]),
        )
    ]
    spot_types = list(ctx.options["spot_instance_types"])
    if spot_types:
        groups.append(
            aws.eks.NodeGroup(
                f"{ctx.name}-spot",
                aws.eks.NodeGroupArgs(
                    cluster_name=cluster.name,
                    node_group_name_prefix=ctx.cloud("aws_prefix", "spot") + "-",
                    node_role_arn=role.arn,
                    subnet_ids=settings.private_subnet_ids,
                    ami_type=AMI_TYPE,
                    capacity_type="SPOT",
                    instance_types=spot_types,
                    launch_template=launch,
                    scaling_config=aws.eks.NodeGroupScalingConfigArgs(
                        desired_size=0, min_size=0, max_size=ctx.options["spot_max_count"]
                    ),
                    update_config=aws.eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                    labels={"mlops-platform/capacity": "spot"},
                    # Only workloads that tolerate interruption (training jobs) land here.
                    taints=[aws.eks.NodeGroupTaintArgs(key=SPOT_TAINT, value="true", effect="NO_SCHEDULE")],
                    tags=ctx.tagged(),
                ),
                opts=ctx.opts(depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]),
            )
        )
    return role, groups


def _pod_identity_role(ctx: AwsContext, role_name: str, managed: str) -> aws.iam.Role:
    role = ctx.role(role_name, service_trust(["pods.eks.amazonaws.com"], POD_IDENTITY_TRUST_ACTIONS), f"EKS Pod Identity: {role_name}")
    ctx.managed_policy(role_name, role, managed)
    return role


def _addons(ctx: AwsContext, cluster: aws.eks.Cluster, node_groups: list[aws.eks.NodeGroup]) -> None:
    """Core add-ons, EKS-managed at the default version for the cluster's Kubernetes version."""
    cni_role = _pod_identity_role(ctx, "vpc-cni", "AmazonEKS_CNI_Policy")
    ebs_role = _pod_identity_role(ctx, "ebs-csi", "AmazonEBSCSIDriverPolicy")

    def addon(addon_name: str, after: list[pulumi.Resource], **kwargs: Any) -> aws.eks.Addon:
        return aws.eks.Addon(
            f"{ctx.name}-{addon_name}",
            aws.eks.AddonArgs(
                cluster_name=cluster.name,
                addon_name=addon_name,
                resolve_conflicts_on_create="OVERWRITE",
                resolve_conflicts_on_update="OVERWRITE",
                tags=ctx.tagged(),
                **kwargs,
            ),
            opts=ctx.opts(depends_on=after),
        )

    # Networking first (DaemonSets: nodes become Ready only once the CNI runs on them).
    pod_identity = addon("eks-pod-identity-agent", [])
    addon(
        "vpc-cni",
        [pod_identity],
        configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
        pod_identity_associations=[aws.eks.AddonPodIdentityAssociationArgs(role_arn=cni_role.arn, service_account="aws-node")],
    )
    addon("kube-proxy", [])
    # Deployments: they need nodes to schedule on.
    addon("coredns", node_groups)
    addon(
        "aws-ebs-csi-driver",
        [*node_groups, pod_identity],
        pod_identity_associations=[
            aws.eks.AddonPodIdentityAssociationArgs(role_arn=ebs_role.arn, service_account="ebs-csi-controller-sa")
        ],
    )
