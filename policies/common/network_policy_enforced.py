"""network-policy-enforced: a cluster the stack gives NetworkPolicies to actually enforces them,
or k8s-namespace-default-deny gives false assurance (the API server stores NetworkPolicies
whether or not the CNI implements them):

- EKS: the stack's ``vpc-cni`` Addon for the cluster sets ``enableNetworkPolicy: "true"`` in its
  ``configurationValues`` (the VPC CNI's network policy agent is off by default);
- AKS: ``networkProfile.networkPolicy`` is set (azure, calico or cilium); none means no
  enforcement.

Minikube's CNI is not a resource: the local stack is out of this rule's sight.
"""

from __future__ import annotations

import json
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.props import known
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import companions, of_type

NAME = "network-policy-enforced"
ENFORCING_AKS_POLICIES = ("azure", "calico", "cilium")


def _cni_enforces(addon: Any) -> bool | None:
    if str(known(addon.props, "addonName", default="", if_unknown="vpc-cni")) != "vpc-cni":
        return False
    raw = known(addon.props, "configurationValues", default="", if_unknown=None)
    if raw is None:
        return None
    try:
        values = json.loads(raw) if isinstance(raw, str) and raw else {}
    except ValueError:
        return False
    return str(values.get("enableNetworkPolicy", "false")).lower() == "true"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    if not of_type(args.resources, t.K8S_NETWORK_POLICY):
        return
    for cluster in of_type(args.resources, t.EKS_CLUSTER):
        addons = companions(args.resources, t.EKS_ADDON, "clusterName", cluster)
        if not any(_cni_enforces(a) is not False for a in addons):
            report_violation(
                f"EKS cluster '{cluster.name}' gets NetworkPolicies but no vpc-cni Addon with "
                f"configurationValues enableNetworkPolicy 'true', so nothing enforces them; add "
                f"aws.eks.Addon('vpc-cni', configuration_values='{{\"enableNetworkPolicy\": \"true\"}}').",
                cluster.urn,
            )
    for cluster in of_type(args.resources, t.AZ_MANAGED_CLUSTER):
        policy = known(cluster.props, "networkProfile", "networkPolicy", default="", if_unknown="cilium")
        if str(policy).lower() not in ENFORCING_AKS_POLICIES:
            report_violation(
                f"AKS cluster '{cluster.name}' gets NetworkPolicies but networkProfile.networkPolicy is "
                f"'{policy or 'none'}', so nothing enforces them; set it to cilium (or azure/calico).",
                cluster.urn,
            )


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether a cluster that gets NetworkPolicies enforces them (EKS vpc-cni enableNetworkPolicy, AKS "
        "networkProfile.networkPolicy). Fix: turn on the CNI's network policy support."
    ),
    resource_types=(t.K8S_NETWORK_POLICY, t.EKS_CLUSTER, t.EKS_ADDON, t.AZ_MANAGED_CLUSTER),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation="turn on network policy enforcement in the cluster's CNI",
)
