"""Serve the components (the six platform pieces and ContainerImages) to other Pulumi languages (``pulumi package add <repo>/components``).

The engine starts this file as the plugin's entry point; the schema (package ``mlops``, types
``mlops:index:<Name>``) is inferred from the components' Args TypedDicts and output annotations.
"""

import sys
from pathlib import Path

# Run as a plugin, this file is a script: make the package importable by its own name.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host  # noqa: E402

from components import (  # noqa: E402
    Cluster,
    ContainerImages,
    InferenceEndpoint,
    Monitoring,
    Network,
    Registry,
    TrainingPlatform,
)

PACKAGE = "mlops"
COMPONENTS = [Network, Cluster, Registry, ContainerImages, TrainingPlatform, InferenceEndpoint, Monitoring]

if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE)
