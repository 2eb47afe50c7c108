"""The Pulumi program (``main: stacks/`` in Pulumi.yaml): read config, compose, export.

The host runs this file with ``stacks/`` on sys.path, not the repository root, so the imports
below go through the installed project (``uv sync`` installs it; Pulumi.yaml points the Python
runtime at that virtual environment).
"""

import pulumi

from stacks.config import load_settings
from stacks.composition import build_platform

for key, value in build_platform(load_settings()).items():
    pulumi.export(key, value)
