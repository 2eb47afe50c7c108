"""Typed azure-only options of the six components (the ``azure`` field of each Args)."""


from typing import TypedDict


class AzureNetworkOptions(TypedDict, total=False):
    """azure-only options of Network."""


class AzureClusterOptions(TypedDict, total=False):
    """azure-only options of Cluster."""


class AzureRegistryOptions(TypedDict, total=False):
    """azure-only options of Registry."""


class AzureTrainingOptions(TypedDict, total=False):
    """azure-only options of TrainingPlatform."""


class AzureInferenceOptions(TypedDict, total=False):
    """azure-only options of InferenceEndpoint."""


class AzureMonitoringOptions(TypedDict, total=False):
    """azure-only options of Monitoring."""
