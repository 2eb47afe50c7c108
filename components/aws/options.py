"""Typed aws-only options of the six components (the ``aws`` field of each Args)."""


from typing import TypedDict


class AwsNetworkOptions(TypedDict, total=False):
    """aws-only options of Network."""


class AwsClusterOptions(TypedDict, total=False):
    """aws-only options of Cluster."""


class AwsRegistryOptions(TypedDict, total=False):
    """aws-only options of Registry."""


class AwsTrainingOptions(TypedDict, total=False):
    """aws-only options of TrainingPlatform."""


class AwsInferenceOptions(TypedDict, total=False):
    """aws-only options of InferenceEndpoint."""


class AwsMonitoringOptions(TypedDict, total=False):
    """aws-only options of Monitoring."""
