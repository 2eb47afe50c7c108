"""mlops-platform components: six Pulumi ComponentResources with one interface per concern and
a backend per target (local Minikube, AWS, Azure).

    from components import Network, Cluster, Registry, TrainingPlatform, InferenceEndpoint, Monitoring

Installed from the wheel the same package is also importable as ``mlops_platform.components``.
"""

from .base import ArgsError
from .cluster import Cluster, ClusterArgs
from .images import ContainerImages, ContainerImagesArgs
from .inference import InferenceEndpoint, InferenceEndpointArgs
from .monitoring import Monitoring, MonitoringArgs
from .network import Network, NetworkArgs
from .registry import Registry, RegistryArgs
from .tags import kubernetes_labels, standard_tags
from .targets import TARGETS, TargetError
from .training import TrainingPlatform, TrainingPlatformArgs

__all__ = [
    "ArgsError",
    "Cluster",
    "ClusterArgs",
    "ContainerImages",
    "ContainerImagesArgs",
    "InferenceEndpoint",
    "InferenceEndpointArgs",
    "Monitoring",
    "MonitoringArgs",
    "Network",
    "NetworkArgs",
    "Registry",
    "RegistryArgs",
    "TARGETS",
    "TargetError",
    "TrainingPlatform",
    "TrainingPlatformArgs",
    "kubernetes_labels",
    "standard_tags",
]
