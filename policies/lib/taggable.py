"""Which AWS / Azure resource types accept ``tags``, from a table generated from the installed
provider SDKs (``policies/data/taggable_types.json``).

Reading it from the SDKs at run time (import every resource module, inspect each class's
constructor) cost 5-14 s of cold start in every ``pulumi preview``; the table is generated once
per SDK upgrade instead::

    uv run --frozen python -m policies.lib.taggable --write

and tests/policies/test_taggable.py checks it against the installed SDKs (same versions, every
registered token present, and a sample of constructors inspected). A type the table does not
list gives ``None`` ("cannot tell") and required-tags reports itself not applicable.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import importlib.util
import inspect
import json
import re
import sys
from pathlib import Path

from policies.lib.data import DATA_DIR

#: Pulumi package name -> the Python SDK that registers its modules.
SDK_PACKAGES = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native"}
#: Distribution names, for the versions the table records.
SDK_DISTRIBUTIONS = {"aws": "pulumi-aws", "azure-native": "pulumi-azure-native"}
TABLE = DATA_DIR / "taggable_types.json"


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, bool]:
    data = json.loads(TABLE.read_text(encoding="utf-8"))
    out: dict[str, bool] = {}
    for package in SDK_PACKAGES:
        out.update(dict.fromkeys(data["packages"][package]["taggable"], True))
        out.update(dict.fromkeys(data["packages"][package]["untaggable"], False))
    return out


def supports_tags(resource_type: str) -> bool | None:
    """True/False for a type the generated table knows; ``None`` when it cannot tell."""
    return _table().get(resource_type)


# --- generation (from the installed SDKs) -------------------------------------------------------

def _distribution_version(distribution: str) -> str:
    import importlib.metadata  # generation only: keeps it (and zipfile, csv) out of the pack's cold start

    return importlib.metadata.version(distribution)


def registered_tokens(package: str) -> dict[str, tuple[str, str]]:
    """``{token: (module fqn, class name)}`` the SDK registers with the Pulumi runtime."""
    import pulumi.runtime.rpc as rpc

    importlib.import_module(SDK_PACKAGES[package])
    out: dict[str, tuple[str, str]] = {}
    for key, modules in rpc._RESOURCE_MODULES.items():  # noqa: SLF001 - the SDK's own registration
        if not key.startswith(package + ":"):
            continue
        for module in modules:
            info = getattr(module, "mod_info", {})
            for token, class_name in info.get("classes", {}).items():
                out[token] = (info["fqn"], class_name)
    return out


def inspect_takes_tags(fqn: str, class_name: str) -> bool:
    """Import the class and inspect its constructor (exact, slow: the test's oracle)."""
    cls = getattr(importlib.import_module(fqn), class_name)
    return "tags" in inspect.signature(cls._internal_init).parameters


_INTERNAL_INIT = re.compile(r"def _internal_init\(__self__,(?P<params>.*?)\):", re.S)


def source_takes_tags(fqn: str, class_name: str) -> bool:
    """The same answer read from the SDK's generated source without importing it (fast: the
    generator's way). Every resource class is generated with one ``_internal_init`` whose
    parameters are the resource's inputs."""
    spec = importlib.util.find_spec(fqn)
    if spec is None or spec.origin is None:
        raise LookupError(fqn)
    package_dir = Path(spec.origin).parent
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", class_name).lower()
    guess = package_dir / f"{snake}.py"  # the generator's file naming; any other file is searched next
    for path in ([guess] if guess.exists() else []) + sorted(package_dir.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        start = text.find(f"class {class_name}(pulumi.CustomResource)")
        if start < 0:
            continue
        match = _INTERNAL_INIT.search(text, start)
        if match is None:
            raise LookupError(f"{fqn}.{class_name}: no _internal_init")
        return re.search(r"\btags\s*:", match.group("params")) is not None
    raise LookupError(f"{fqn}.{class_name}: class not found")


def generate() -> dict:
    packages = {}
    for package in SDK_PACKAGES:
        taggable, untaggable = [], []
        for token, (fqn, class_name) in sorted(registered_tokens(package).items()):
            (taggable if source_takes_tags(fqn, class_name) else untaggable).append(token)
        packages[package] = {"sdk": SDK_DISTRIBUTIONS[package],
                             "version": _distribution_version(SDK_DISTRIBUTIONS[package]),
                             "taggable": taggable, "untaggable": untaggable}
    return {"generated_by": "python -m policies.lib.taggable --write", "packages": packages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate policies/data/taggable_types.json from the installed SDKs.")
    parser.add_argument("--write", action="store_true", help="write the table (default: print a summary)")
    args = parser.parse_args(argv)
    table = generate()
    if args.write:
        TABLE.write_text(json.dumps(table, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    for package, entry in table["packages"].items():
        print(f"{package} {entry['version']}: {len(entry['taggable'])} taggable, {len(entry['untaggable'])} not")
    return 0


if __name__ == "__main__":
    sys.exit(main())
