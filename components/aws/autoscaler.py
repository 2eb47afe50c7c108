"""The Cluster Autoscaler on EKS: it owns the node groups' desired sizes (the node groups
ignore ``desiredSize`` changes), so the spot group scales from 0 when a training pod waits.

- Helm chart ``cluster-autoscaler`` from its official repository
  (https://kubernetes.github.io/autoscaler), pinned per Kubernetes minor: the autoscaler's minor
  must match the cluster's (the project's README, "Releases"). :data:`CHARTS` records the chart
  whose appVersion is that minor (the chart's Chart.yaml at the tag ``cluster-autoscaler-chart-<v>``).
- Its own EKS Pod Identity role with the policy of the autoscaler's AWS README ("Full Cluster
  Autoscaler Features Policy"), narrowed as that README recommends: the two mutating actions
  only on EKS-managed Auto Scaling groups (``eks-*``) that carry this cluster's discovery tags,
  and ``eks:DescribeNodegroup`` (labels and taints of a group at 0 nodes) only on this
  cluster's node groups. Describe* actions support no resource (Service Authorization
  Reference, Amazon EC2 Auto Scaling / Amazon EC2), so they take ``*``.
- Node groups are found by auto-discovery on ``k8s.io/cluster-autoscaler/enabled`` and
  ``k8s.io/cluster-autoscaler/<cluster>``, which EKS puts on every managed node group's Auto
  Scaling group (EKS User Guide, "Managed node groups"); the node groups carry them too.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from .common import AwsContext, allow, service_trust

CHART = "cluster-autoscaler"
CHART_REPO = "https://kubernetes.github.io/autoscaler"
#: Kubernetes minor -> the newest chart release whose appVersion is that minor.
CHARTS = {"1.33": "9.51.0", "1.34": "9.53.0", "1.35": "9.59.0"}
NAMESPACE = "kube-system"
SERVICE_ACCOUNT = "cluster-autoscaler"
DISCOVERY_ENABLED = "k8s.io/cluster-autoscaler/enabled"
DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
SCALE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")
#: ASG-tag hints the autoscaler reads for a group at 0 nodes (its AWS README, "Auto-Discovery Setup").
LABEL_TEMPLATE = "k8s.io/cluster-autoscaler/node-template/label/"
TAINT_TEMPLATE = "k8s.io/cluster-autoscaler/node-template/taint/"


def discovery_tag(cluster_name: str) -> str:
    return f"k8s.io/cluster-autoscaler/{cluster_name}"


def discovery_tags(cluster_name: str) -> dict[str, str]:
    """The tags auto-discovery looks for (values as EKS sets them on its node groups' ASGs)."""
    return {DISCOVERY_ENABLED: "true", discovery_tag(cluster_name): "owned"}


def chart_version(ctx: AwsContext, kubernetes_version: str) -> str:
    if kubernetes_version not in CHARTS:
        ctx.fail("kubernetes_version", kubernetes_version,
                 f"a version with a pinned cluster-autoscaler chart ({', '.join(sorted(CHARTS))}; "
                 "components/aws/autoscaler.py CHARTS)")
    return CHARTS[kubernetes_version]


def policy_statements(ctx: AwsContext, cluster_name: str) -> list[dict[str, Any]]:
    groups = ctx.arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/eks-*")
    nodegroups = ctx.arn("eks", f"nodegroup/{cluster_name}/*/*")
    return [
        allow(list(DESCRIBE_ACTIONS), ["*"]),
        allow(list(SCALE_ACTIONS), [groups], Condition={"StringEquals": {
            f"aws:ResourceTag/{DISCOVERY_ENABLED}": "true",
            f"aws:ResourceTag/{discovery_tag(cluster_name)}": "owned",
        }}),
        allow(["eks:DescribeNodegroup"], [nodegroups]),
    ]


def scale_from_zero_tags(ctx: AwsContext, role: str, group: aws.eks.NodeGroup, labels: dict[str, str],
                         taints: list[tuple[str, str, str]]) -> None:
    """Label and taint hints on the group's Auto Scaling group. EKS copies neither node-group
    tags nor labels there, and the autoscaler asks DescribeNodegroup only for a group that never
    had nodes: after its first scale-down to 0 these tags are what tell it a training pod fits."""
    asg = group.resources.apply(lambda rs: rs[0].autoscaling_groups[0].name if rs and rs[0].autoscaling_groups else "")
    hints = {LABEL_TEMPLATE + k: v for k, v in labels.items()}
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    hints.update({TAINT_TEMPLATE + k: f"{v}:{effects[e]}" for k, v, e in taints})
    for i, (key, value) in enumerate(sorted(hints.items())):
        aws.autoscaling.Tag(
            f"{ctx.name}-{role}-asg-hint-{i}",
            aws.autoscaling.TagArgs(
                autoscaling_group_name=asg,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
            ),
            opts=ctx.opts(),
        )


def create(ctx: AwsContext, cluster: aws.eks.Cluster, cluster_name: str, kubernetes_version: str,
           node_groups: list[aws.eks.NodeGroup], provider: k8s.Provider, after: list[pulumi.Resource]) -> k8s.helm.v3.Release:
    from .cluster import POD_IDENTITY_TRUST_ACTIONS

    version = chart_version(ctx, kubernetes_version)
    role = ctx.role("cluster-autoscaler", service_trust(["pods.eks.amazonaws.com"], POD_IDENTITY_TRUST_ACTIONS),
                    "Cluster Autoscaler (EKS Pod Identity): scale this cluster's node groups")
    policy = ctx.role_policy("cluster-autoscaler", role, policy_statements(ctx, cluster_name))
    identity = aws.eks.PodIdentityAssociation(
        f"{ctx.name}-cluster-autoscaler-identity",
        aws.eks.PodIdentityAssociationArgs(cluster_name=cluster.name, namespace=NAMESPACE,
                                           service_account=SERVICE_ACCOUNT, role_arn=role.arn, tags=ctx.tagged()),
        opts=ctx.opts(depends_on=[policy]),
    )
    return k8s.helm.v3.Release(
        f"{ctx.name}-cluster-autoscaler",
        k8s.helm.v3.ReleaseArgs(
            name=SERVICE_ACCOUNT,
            chart=CHART,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=CHART_REPO),
            namespace=NAMESPACE,
            values={
                "cloudProvider": "aws",
                "awsRegion": ctx.region,
                "autoDiscovery": {"clusterName": cluster_name},
                "rbac": {"serviceAccount": {"create": True, "name": SERVICE_ACCOUNT}},
                "extraArgs": {"balance-similar-node-groups": "true", "expander": "least-waste"},
                # Its own pods stay on the on-demand group (it must not evict itself).
                "podAnnotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"},
            },
        ),
        # Credentials come from the association; pods need nodes and the Pod Identity agent.
        opts=pulumi.ResourceOptions(parent=ctx.component, provider=provider,
                                    depends_on=[identity, *node_groups, *after]),
    )
