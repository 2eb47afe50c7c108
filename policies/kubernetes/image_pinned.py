"""k8s-image-pinned: every container image is pinned by a tag other than ``latest`` or by a
digest (``@sha256:...``); an image with no tag means ``latest``."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import UnknownValueError, dig
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-image-pinned"
FIX = "pin the image by a version tag (repo/image:1.2.3) or a digest (repo/image@sha256:...)"


def image_tag(image: str) -> str | None:
    """The tag of an image reference, ``"@digest"`` for digests, ``None`` when there is none."""
    if "@" in image:
        return "@digest"
    last = image.rsplit("/", 1)[-1]  # a registry host:port is before the last '/'
    return last.split(":", 1)[1] if ":" in last else None


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for label, container in k8s.containers(spec):
        try:
            image = dig(container, "image")
        except UnknownValueError:
            continue  # built from another resource's output at preview: cannot tell
        if not isinstance(image, str) or not image:
            continue  # no image: the API server rejects the object
        tag = image_tag(image)
        if tag is None or tag == "latest":
            report_violation(f"{k8s.describe(args.resource_type, args.name)} {label} uses image '{image}' (latest); {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether every container image is pinned by a tag other than latest or by a digest. Fix: use "
        "repo/image:1.2.3 or repo/image@sha256:..."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
