"""The serving image's public contract, kept importable at its old path.

The one definition lives in the dependency-free package ``contract`` (contract/serving.py), which
``components/`` imports too; add new names there, not here.
"""

from contract.serving import *  # noqa: F403 (the whole contract, re-exported)
from contract.serving import __all__  # noqa: F401
