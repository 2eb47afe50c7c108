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
from . import autoscaler
from .common import AwsContext, allow, service_trust
from .eks_versions import CALENDAR, SOURCE, in_standard_support

DEFAULT_INSTANCE_TYPE = "t3.large"  # cheap default; prod sets nodeSize
AMI_TYPE = "AL2023_x86_64_STANDARD"
#: Control-plane logs the issue asks for; controllerManager/scheduler add cost and little signal.
LOG_TYPES = ("api", "audit", "authenticator")
POD_IDENTITY_TRUST_ACTIONS = ("sts:AssumeRole", "sts:TagSession")
ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
SPOT_TAINT = "mlops-platform/spot"
#: The EKS Pod Identity agent on every node (EKS User Guide, "EKS Pod Identity agent"): pods
#: fetch their role's credentials there, so a default-deny egress policy must admit it.
POD_IDENTITY_AGENT = ({"cidr": "169.254.170.23/32"}, {"cidr": "fd00:ec2::23/128"})
POD_IDENTITY_PORT = 80
#: Managed policies published under a path (IAM: the ARN must carry it).
MANAGED_PATHS = {"AmazonEBSCSIDriverPolicy": "/service-role/"}
#: How long a new access policy association may take to reach the API server's authenticator.
#: EKS answers AssociateAccessPolicy before the authenticator knows the entry; measured at up to
#: 30 s (gravitational/teleport#49467, "Enroll EKS Cluster from Discover: wait for access
#: entry": "it can take up to 30s"), so the first Kubernetes call waits out that window.
ACCESS_PROPAGATION_SECONDS = 45


def propagation_wait(associated_at: str | None, now: Any = None) -> float:
    """Seconds still to wait after an association made at ``associated_at`` (RFC 3339), so the
    first Kubernetes call is at least :data:`ACCESS_PROPAGATION_SECONDS` after it; 0 for an old
    association (every later ``up``) or an unknown time. Bounded by the window itself."""
    import datetime as dt

    if not associated_at:
        return 0.0
    try:
        made = dt.datetime.fromisoformat(associated_at.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if made.tzinfo is None:
        made = made.replace(tzinfo=dt.timezone.utc)
    now = now or dt.datetime.now(dt.timezone.utc)
    elapsed = (now - made).total_seconds()
    return float(min(ACCESS_PROPAGATION_SECONDS, max(0.0, ACCESS_PROPAGATION_SECONDS - elapsed)))


def _after_propagation(config: str, associated_at: str | None) -> str:
    """The kubeconfig, handed out only once the access entry has had time to propagate (a real
    ``up`` right after the association was made; never during preview, where it is unknown)."""
    import time

    wait = propagation_wait(associated_at)
    if wait and not pulumi.runtime.is_dry_run():
        time.sleep(wait)
    return config


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str, role_arn: str = "") -> str:
    """A kubeconfig that authenticates with ``aws eks get-token`` (AWS CLI v2), for users and CI.

    The token is minted from whatever AWS credentials the caller has; they must map to an access
    entry (the deployer role, or one you add). With ``role_arn`` the CLI first assumes that role
    (``--role-arn``): how the kubeconfig reaches a cluster created through a caller's
    assume-role provider, whose credentials the CLI does not see (pulumi-eks refuses an explicit
    provider without ``providerCredentialOpts`` for the same reason).
    """
    assume = ["--role-arn", role_arn] if role_arn else []
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region, *assume,
                     "--output", "json"],
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
    public = list(ctx.options["public_access_cidrs"])
    runners = list(ctx.options["api_runner_cidrs"])
    for key, cidrs in (("aws.public_access_cidrs", public), ("aws.api_runner_cidrs", runners)):
        for cidr in cidrs:
            if cidr.endswith("/0"):
                ctx.fail(key, cidr, "specific CIDRs; never a /0")
    if not public and not runners and not ctx.options["api_runner_security_group_ids"]:
        # The same stack creates the VPC: with a private-only endpoint and nothing admitted to
        # the cluster security group, every Kubernetes call of the first `up` times out.
        ctx.fail("aws.public_access_cidrs", "",
                 "the CIDRs of the machine that runs `pulumi up` (first `up`), or aws.api_runner_cidrs / "
                 "aws.api_runner_security_group_ids of a runner inside the VPC (docs/aws.md, API access)")


def check_version(ctx: AwsContext, version: str, today: Any = None) -> None:
    """Refuse a Kubernetes version past EKS standard support: the cluster's STANDARD upgrade
    policy makes EKS upgrade it by itself, and the pinned version would then plan a downgrade."""
    import datetime as dt

    today = today or dt.datetime.now(dt.timezone.utc).date()
    if not in_standard_support(version, today):
        supported = ", ".join(v for v in CALENDAR if in_standard_support(v, today))
        ctx.fail("kubernetes_version", version, f"a version in EKS standard support today ({supported}; {SOURCE})")


def build(component: Any, name: str, settings: Any) -> dict[str, Any]:
    ctx = AwsContext(component, name, settings)
    _check(ctx)
    check_version(ctx, settings.kubernetes_version)
    cluster_name = ctx.cloud("eks")
    log_group_name = f"/aws/eks/{cluster_name}/cluster"  # the name EKS writes to (fixed by EKS)
    key = ctx.kms_key("cluster", f"EKS {cluster_name}: Kubernetes secrets and control-plane logs",
                      [ctx.logs_service_statement([log_group_name])])
    log_group = ctx.log_group("control-plane", log_group_name, ctx.options["log_retention_days"], key)
    cluster_role, attachments = _cluster_role(ctx, key)
    cluster = _cluster(ctx, settings, cluster_name, cluster_role, key, [log_group, *attachments])
    admin = _access(ctx, cluster)
    api_rules = _api_access(ctx, cluster)
    # Networking add-ons first: nodes join only once the CNI, kube-proxy and the Pod Identity
    # agent can run on them (bootstrap_self_managed_addons is off), as terraform-aws-eks does
    # with its before-compute add-ons.
    before_compute = _network_addons(ctx, cluster)
    node_role, node_groups = _nodes(ctx, settings, cluster, before_compute)
    addons = _workload_addons(ctx, cluster, node_groups, before_compute)

    # The kubeconfig waits for the admin association to propagate (ACCESS_PROPAGATION_SECONDS):
    # every Kubernetes resource below takes its provider from it, so none is called before.
    config: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.all(cluster.name, cluster.endpoint, cluster.certificate_authority.data, admin.associated_at).apply(
            # A caller's provider (assume-role, another account): the kubeconfig assumes the
            # deployer role, the cluster admin, instead of the CLI's ambient credentials.
            lambda a: _after_propagation(
                kubeconfig(a[0], a[1], a[2], ctx.region, ctx.options["deployer_role_arn"] if ctx.from_caller else ""),
                a[3])
        )
    )
    provider = k8s.Provider(
        f"{name}-k8s",
        k8s.ProviderArgs(kubeconfig=config, enable_server_side_apply=True),
        # The first Kubernetes call needs the admin access entry and a way to the API server.
        opts=pulumi.ResourceOptions(parent=component, depends_on=[admin, *api_rules]),
    )
    labels = kubernetes_labels(settings.tags)
    tenancy = create_tenancy(name, settings.namespace, labels, component, provider=provider)
    _pod_identity_egress(name, tenancy.name, labels, component, provider)
    storage = _storage_class(name, labels, component, provider, addons["aws-ebs-csi-driver"])
    autoscaler.create(ctx, cluster, cluster_name, settings.kubernetes_version, node_groups, provider,
                      [*before_compute, addons["coredns"]])
    # Workloads in the namespace (serving, the monitoring release and its volumes) need nodes
    # and the EBS CSI driver: the namespace output carries those dependencies to them.
    ready = [*node_groups, addons["aws-ebs-csi-driver"], storage]
    namespace = pulumi.Output.all(tenancy.name, *[r.urn for r in ready]).apply(lambda a: a[0])
    return {
        "cluster_name": cluster.name,
        "cluster_endpoint": cluster.endpoint,
        "kubeconfig": config,
        "namespace": namespace,
        "oidc_issuer_url": cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else ""),
        "node_identity": node_role.arn,
        "provider": provider,
    }


def _api_access(ctx: AwsContext, cluster: aws.eks.Cluster) -> list[pulumi.Resource]:
    """HTTPS to the private API endpoint from the configured runner CIDRs / security groups:
    EKS's cluster security group admits only itself, so a runner in the VPC (CI in the private
    subnets, a VPN, SSM) is refused without these rules."""
    sg = cluster.vpc_config.cluster_security_group_id
    rules: list[pulumi.Resource] = []
    for i, cidr in enumerate(ctx.options["api_runner_cidrs"]):
        rules.append(aws.vpc.SecurityGroupIngressRule(
            f"{ctx.name}-api-runner-{i}",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=sg, cidr_ipv4=cidr, ip_protocol="tcp", from_port=443, to_port=443,
                description="Kubernetes API from the pulumi/kubectl runner", tags=ctx.tagged()),
            opts=ctx.opts()))
    for i, group in enumerate(ctx.options["api_runner_security_group_ids"]):
        rules.append(aws.vpc.SecurityGroupIngressRule(
            f"{ctx.name}-api-runner-sg-{i}",
            aws.vpc.SecurityGroupIngressRuleArgs(
                security_group_id=sg, referenced_security_group_id=group, ip_protocol="tcp", from_port=443,
                to_port=443, description="Kubernetes API from the runner's security group", tags=ctx.tagged()),
            opts=ctx.opts()))
    return rules


def _pod_identity_egress(name: str, namespace: pulumi.Input[str], labels: dict[str, str], component: Any,
                         provider: k8s.Provider) -> None:
    """Admit the Pod Identity agent through the namespace's default-deny egress (the VPC CNI
    enforces NetworkPolicies): without it no pod gets AWS credentials."""
    k8s.networking.v1.NetworkPolicy(
        f"{name}-pod-identity-egress",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="allow-eks-pod-identity-agent", namespace=namespace, labels=labels),
        spec=k8s.networking.v1.NetworkPolicySpecArgs(
            pod_selector=k8s.meta.v1.LabelSelectorArgs(),
            policy_types=["Egress"],
            egress=[k8s.networking.v1.NetworkPolicyEgressRuleArgs(
                to=[k8s.networking.v1.NetworkPolicyPeerArgs(ip_block=k8s.networking.v1.IPBlockArgs(cidr=p["cidr"]))
                    for p in POD_IDENTITY_AGENT],
                ports=[k8s.networking.v1.NetworkPolicyPortArgs(protocol="TCP", port=POD_IDENTITY_PORT)],
            )],
        ),
        opts=pulumi.ResourceOptions(parent=component, provider=provider),
    )


def _storage_class(name: str, labels: dict[str, str], component: Any, provider: k8s.Provider,
                   ebs: pulumi.Resource) -> k8s.storage.v1.StorageClass:
    """The default StorageClass: gp3 through the EBS CSI driver, encrypted. EKS 1.30+ marks
    no class as default, so without it PersistentVolumeClaims (Prometheus) stay Pending."""
    return k8s.storage.v1.StorageClass(
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
        # Volumes need the CSI driver: claims made before it runs would stay Pending.
        opts=pulumi.ResourceOptions(parent=component, provider=provider, depends_on=[ebs]),
    )


def _cluster_role(ctx: AwsContext, key: aws.kms.Key) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
    role = ctx.role("cluster", service_trust(["eks.amazonaws.com"], POD_IDENTITY_TRUST_ACTIONS), "EKS control plane")
    managed = ctx.managed_policy("cluster", role, "AmazonEKSClusterPolicy")
    # Envelope encryption of secrets: EKS uses this key through the cluster role.
    inline = ctx.role_policy(
        "cluster-kms", role, [
            allow(["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:ListGrants"], [key.arn]),
            # Grants only for AWS resources (EKS's own use of the key), never for a principal.
            allow(["kms:CreateGrant"], [key.arn], Condition={"Bool": {"kms:GrantIsForAWSResource": "true"}}),
        ]
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


def _nodes(ctx: AwsContext, settings: Any, cluster: aws.eks.Cluster,
           before: list[pulumi.Resource]) -> tuple[aws.iam.Role, list[aws.eks.NodeGroup]]:
    role = ctx.role("nodes", service_trust(["ec2.amazonaws.com"]), "EKS managed nodes")
    attachments = [
        ctx.managed_policy("nodes", role, "AmazonEKSWorkerNodePolicy"),
        ctx.managed_policy("nodes", role, "AmazonEC2ContainerRegistryPullOnly"),
    ]
    attachments = [*attachments, *before]
    # Cluster Autoscaler auto-discovery (EKS tags the groups' ASGs the same way).
    discovery = autoscaler.discovery_tags(ctx.cloud("eks"))
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
                tags=ctx.tagged(**discovery),
            ),
            # The cluster autoscaler owns the desired size once the group exists.
            opts=ctx.opts(depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]),
        )
    ]
    spot_types = list(ctx.options["spot_instance_types"])
    spot_labels = {"mlops-platform/capacity": "spot"}
    spot_taints = [(SPOT_TAINT, "true", "NO_SCHEDULE")]
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
                    labels=spot_labels,
                    # Only workloads that tolerate interruption (training jobs) land here.
                    taints=[aws.eks.NodeGroupTaintArgs(key=k, value=v, effect=e) for k, v, e in spot_taints],
                    tags=ctx.tagged(**discovery),
                ),
                opts=ctx.opts(depends_on=attachments, ignore_changes=["scalingConfig.desiredSize"]),
            )
        )
        # Scale from 0: the autoscaler must know the labels and taint a spot node will have.
        autoscaler.scale_from_zero_tags(ctx, "spot", groups[-1], spot_labels, spot_taints)
    return role, groups


def _pod_identity_role(ctx: AwsContext, role_name: str, managed: str) -> aws.iam.Role:
    role = ctx.role(role_name, service_trust(["pods.eks.amazonaws.com"], POD_IDENTITY_TRUST_ACTIONS), f"EKS Pod Identity: {role_name}")
    ctx.managed_policy(role_name, role, managed, MANAGED_PATHS.get(managed, "/"))
    return role


def _addon(ctx: AwsContext, cluster: aws.eks.Cluster, addon_name: str, after: list[pulumi.Resource],
           **kwargs: Any) -> aws.eks.Addon:
    """An EKS-managed add-on at the default version for the cluster's Kubernetes version."""
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


def _network_addons(ctx: AwsContext, cluster: aws.eks.Cluster) -> list[aws.eks.Addon]:
    """DaemonSets the nodes need to become Ready: created before any node group."""
    cni_role = _pod_identity_role(ctx, "vpc-cni", "AmazonEKS_CNI_Policy")
    pod_identity = _addon(ctx, cluster, "eks-pod-identity-agent", [])
    cni = _addon(
        ctx, cluster, "vpc-cni", [pod_identity],
        configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
        pod_identity_associations=[aws.eks.AddonPodIdentityAssociationArgs(role_arn=cni_role.arn, service_account="aws-node")],
    )
    return [pod_identity, cni, _addon(ctx, cluster, "kube-proxy", [])]


def _workload_addons(ctx: AwsContext, cluster: aws.eks.Cluster, node_groups: list[aws.eks.NodeGroup],
                     before: list[aws.eks.Addon]) -> dict[str, aws.eks.Addon]:
    """Deployments: they need nodes to schedule on. metrics-server (an EKS community add-on)
    serves the resource metrics the serving HorizontalPodAutoscaler reads."""
    ebs_role = _pod_identity_role(ctx, "ebs-csi", "AmazonEBSCSIDriverPolicy")
    return {
        "coredns": _addon(ctx, cluster, "coredns", node_groups),
        "aws-ebs-csi-driver": _addon(
            ctx, cluster, "aws-ebs-csi-driver", [*node_groups, *before],
            pod_identity_associations=[
                aws.eks.AddonPodIdentityAssociationArgs(role_arn=ebs_role.arn, service_account="ebs-csi-controller-sa")
            ],
        ),
        "metrics-server": _addon(ctx, cluster, "metrics-server", node_groups),
    }
