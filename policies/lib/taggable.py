"""Which AWS / Azure resource types accept ``tags``, read from the installed provider SDKs.

A type token ``aws:s3/bucket:Bucket`` names the module ``s3/bucket`` of package ``aws``; the
SDK registers each module with the Pulumi runtime, with the Python class for each token. A type
supports tags when its class's constructor takes a ``tags`` argument. This keeps the
required-tags rule exact for every type the SDK knows, with no hand-kept list to drift.

When the SDK is not installed where the policy pack runs, :func:`supports_tags` returns
``None`` ("cannot tell") and the rule reports itself not applicable to that resource.
"""

from __future__ import annotations

import functools
import importlib
import inspect

import pulumi.runtime.rpc as rpc

#: Pulumi package name -> the Python SDK that registers its modules.
SDK_PACKAGES = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native"}


@functools.lru_cache(maxsize=None)
def _sdk_loaded(package: str) -> bool:
    try:
        importlib.import_module(SDK_PACKAGES[package])
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=None)
def supports_tags(resource_type: str) -> bool | None:
    """True/False for a known AWS/Azure type; ``None`` when the SDK cannot tell."""
    try:
        package, module, _ = resource_type.split(":")
    except ValueError:
        return None
    if package not in SDK_PACKAGES or not _sdk_loaded(package):
        return None
    registered = rpc.get_resource_module(package, module, "")
    mod_info = getattr(registered, "mod_info", None)
    if not mod_info:
        return None
    class_name = mod_info.get("classes", {}).get(resource_type)
    if class_name is None:
        return None
    try:
        cls = getattr(importlib.import_module(mod_info["fqn"]), class_name)
        init = cls._internal_init
    except (ImportError, AttributeError):
        return None
    return "tags" in inspect.signature(init).parameters
