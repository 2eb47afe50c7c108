"""The CrossGuard entry point: ``pulumi preview --policy-pack policies``.

Constructing ``PolicyPack`` starts the analyzer's gRPC server and never returns, so this file
does nothing else and nothing imports it; the rules live in :mod:`policies.registry`.
"""

from pulumi_policy import PolicyPack

from policies.registry import ALL_POLICIES, PACK_ENFORCEMENT_LEVEL

PolicyPack(
    name="mlops-platform",
    policies=ALL_POLICIES,
    enforcement_level=PACK_ENFORCEMENT_LEVEL,
    description="mlops-platform: encryption, least privilege, public exposure, ML services, Kubernetes "
    "hardening and operations rules for the local, AWS and Azure stacks.",
)
