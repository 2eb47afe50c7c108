"""The stack config variants the docs describe, read from the docs themselves (README.md,
docs/*.md, policies/README.md), so that a newly documented variant is covered without editing a
test:

* ``python -m stacks.plan <stack> --set KEY=VALUE ...`` lines;
* ``pulumi config set [-s <stack>] KEY VALUE`` commands: inside one fenced block they add up,
  and the variant so far is taken at each ``pulumi up`` and at the end of the block (so the
  blue/green steps give "green image set" and then "green image + traffic moved"); a command in
  inline code is one variant by itself.

The stack is the one the command names (``-s``/``--stack``), else the last one the document
selected (``pulumi stack select|init X``, ``stacks.plan X``, ``-s X``); a stack created by
``cp Pulumi.A.yaml Pulumi.B.yaml`` is stack A. Placeholders in values (``<account>``,
``$(curl ...)``, ``$HOME``) get the sample values in :data:`SAMPLES`; an unknown one is an error
that names it, so a new placeholder needs a sample here, never a silent skip.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC_GLOBS = ("README.md", "docs/*.md", "policies/README.md")
#: Sample values for the placeholders the docs write.
SAMPLES = {
    "<account>": "123456789012",
    "<deployer>": "mlops-deployer",
    "<acr>": "mlopsacr",
    "<new>": "v2",
    "<group-object-id>": "3f2b5c1e-7a41-4d2e-9b8c-5e6f7a8b9c0d",
    "$(curl -s https://checkip.amazonaws.com)": "198.51.100.7",  # a documentation address
    "$HOME": "/home/operator",
}
PLACEHOLDER = re.compile(r"<[a-z][a-z0-9-]*>|\$\([^)]*\)|\$[A-Z_]+")
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE = re.compile(r"`([^`\n]+)`")
CONFIG_FLAGS_WITH_VALUE = {"-s", "--stack", "-C", "--cwd", "--config-file"}
PROJECT_PREFIX = "mlops-platform:"


class DocVariantError(ValueError):
    """A documented command this reader cannot turn into a variant."""


@dataclass(frozen=True)
class Variant:
    stack: str
    overrides: tuple[tuple[str, str], ...]
    where: str  # "docs/azure.md:182"

    @property
    def id(self) -> str:
        sets = ",".join(f"{k}={v}" for k, v in self.overrides) or "as shipped"
        return f"{self.stack}[{sets}]@{self.where}"


def shipped_stacks(root: Path = ROOT) -> set[str]:
    return {p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml")}


def fill(value: str, where: str) -> str:
    def sample(match: re.Match) -> str:
        if match.group(0) not in SAMPLES:
            raise DocVariantError(f"{where}: placeholder {match.group(0)!r} has no sample value in "
                                  f"tests/policies/doc_variants.py SAMPLES")
        return SAMPLES[match.group(0)]
    return PLACEHOLDER.sub(sample, value)


def _key(key: str) -> str:
    return key[len(PROJECT_PREFIX):] if key.startswith(PROJECT_PREFIX) else key


class _Reader:
    def __init__(self, doc: str, shipped: set[str]):
        self.doc, self.shipped = doc, shipped
        self.current = "dev"
        self.aliases: dict[str, str] = {}
        self.out: list[Variant] = []
        self.pending: dict[str, dict[str, str]] = {}  # stack -> overrides accumulated in this block
        self.emitted: dict[str, dict[str, str]] = {}

    def stack(self, name: str) -> str:
        return self.aliases.get(name, name)

    def emit(self, where: str) -> None:
        for stack, overrides in self.pending.items():
            if overrides and overrides != self.emitted.get(stack):
                self.out.append(Variant(stack, tuple(sorted(overrides.items())), where))
                self.emitted[stack] = dict(overrides)

    def end_block(self, where: str) -> None:
        self.emit(where)
        self.pending, self.emitted = {}, {}

    def command(self, words: list[str], where: str, inline: bool) -> None:
        if len(words) >= 3 and words[0] == "cp" and words[1].startswith("Pulumi.") and words[2].startswith("Pulumi."):
            source, target = (w[len("Pulumi."):-len(".yaml")] for w in words[1:3])
            self.aliases[target] = self.stack(source)
            return
        if "stacks.plan" in words:
            rest = words[words.index("stacks.plan") + 1:]
            if rest and not rest[0].startswith("-") and not PLACEHOLDER.fullmatch(rest[0]):
                self.current = self.stack(rest[0])
            sets = {}
            for flag, value in zip(rest, rest[1:]):
                if flag == "--set":
                    key, sep, val = value.partition("=")
                    if not sep:
                        raise DocVariantError(f"{where}: --set {value!r} is not KEY=VALUE")
                    sets[_key(key)] = fill(val, where)
            if sets:
                self.out.append(Variant(self.stack(self.current), tuple(sorted(sets.items())), where))
            return
        if not words or words[0] != "pulumi":
            return
        named = None
        for flag, value in zip(words, words[1:]):
            if flag in ("-s", "--stack"):
                named = self.stack(value)
        if words[1:3] in (["stack", "select"], ["stack", "init"]) and len(words) > 3:
            self.current = self.stack(words[3])
            return
        if named is not None:
            self.current = named
        if words[1:3] == ["config", "set"]:
            positional, skip = [], False
            for word in words[3:]:
                if skip:
                    skip = False
                elif word in CONFIG_FLAGS_WITH_VALUE:
                    skip = True
                elif word.startswith("-"):
                    if word == "--path":
                        raise DocVariantError(f"{where}: 'pulumi config set --path' is not read here")
                else:
                    positional.append(word)
            if len(positional) != 2:
                raise DocVariantError(f"{where}: expected 'pulumi config set KEY VALUE', got {' '.join(words)!r}")
            key, value = positional
            self.pending.setdefault(self.stack(self.current), {})[_key(key)] = fill(value, where)
            if inline:
                self.end_block(where)
        elif words[1:2] == ["up"]:
            self.emit(where)


def variants(root: Path = ROOT) -> list[Variant]:
    shipped = shipped_stacks(root)
    found: list[Variant] = []
    docs = sorted({p for pattern in DOC_GLOBS for p in root.glob(pattern)})
    for path in docs:
        doc = path.relative_to(root).as_posix()
        reader = _Reader(doc, shipped)
        in_block = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{doc}:{number}"
            if FENCE.match(line):
                if in_block:
                    reader.end_block(where)
                in_block = not in_block
                continue
            segments = [line] if in_block else INLINE.findall(line)
            for segment in segments:
                for command in re.split(r"&&|;|\|", segment):
                    try:
                        words = shlex.split(command, comments=True)
                    except ValueError:
                        continue  # prose in backticks, not a command
                    reader.command(words, where, inline=not in_block)
        reader.end_block(f"{doc}:end")
        found += reader.out
    for variant in found:
        if variant.stack not in shipped:
            raise DocVariantError(f"{variant.where}: stack {variant.stack!r} is not shipped "
                                  f"(Pulumi.<stack>.yaml: {', '.join(sorted(shipped))})")
    unique: dict[tuple, Variant] = {}
    for variant in found:
        unique.setdefault((variant.stack, variant.overrides), variant)
    return list(unique.values())


if __name__ == "__main__":
    for v in variants():
        print(v.id)
