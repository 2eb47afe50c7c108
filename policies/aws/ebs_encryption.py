"""aws-ebs-encryption: EBS volumes, instance block devices and launch-template block devices
are encrypted.

Stack validation, because an ``aws.ebs.EncryptionByDefault(enabled=True)`` in the stack turns
on encryption for every new volume in the region: then only an explicit ``encrypted: false``
is a violation. Without it, a launch template that declares no EBS block device leaves the
root volume's encryption to the AMI snapshot, which this rule cannot see, so it asks for an
explicit mapping.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from policies.lib import types as t
from policies.lib.props import UnknownValueError, as_list, dig, is_false, is_map, is_true
from policies.lib.rule import MANDATORY, stack_rule
from policies.lib.stack import of_type

NAME = "aws-ebs-encryption"
ENCRYPTION_BY_DEFAULT = "aws:ebs/encryptionByDefault:EncryptionByDefault"
FIX = "set encrypted: true (and kmsKeyId to the stack's KMS key) or enable aws.ebs.EncryptionByDefault"


def _state(device: Any) -> str:
    """'on', 'off' (explicitly false) or 'unset'."""
    try:
        value = dig(device, "encrypted")
    except UnknownValueError:
        return "on"  # computed: cannot tell, not reported
    if is_true(value):
        return "on"
    return "off" if is_false(value) else "unset"


def _devices(resource: Any) -> list[tuple[str, Any]]:
    props = resource.props
    if resource.resource_type == t.EBS_VOLUME:
        return [("volume", props)]
    if resource.resource_type == t.EC2_INSTANCE:
        devices = [("root block device", dig(props, "rootBlockDevice") or {})]
        devices += [(f"block device '{dig(d, 'deviceName', default=i)}'", d)
                    for i, d in enumerate(as_list(dig(props, "ebsBlockDevices"))) if is_map(d)]
        return devices
    mappings = [m for m in as_list(dig(props, "blockDeviceMappings")) if is_map(m) and is_map(dig(m, "ebs"))]
    return [(f"block device '{dig(m, 'deviceName', default=i)}'", dig(m, "ebs")) for i, m in enumerate(mappings)]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    by_default = any(
        is_true(dig(r.props, "enabled", default=True)) for r in of_type(args.resources, ENCRYPTION_BY_DEFAULT)
    )
    kinds = {t.EBS_VOLUME: "EBS volume", t.EC2_INSTANCE: "EC2 instance", t.EC2_LAUNCH_TEMPLATE: "launch template"}
    for resource in of_type(args.resources, *kinds):
        label = f"{kinds[resource.resource_type]} '{resource.name}'"
        devices = _devices(resource)
        if resource.resource_type == t.EC2_LAUNCH_TEMPLATE and not devices and not by_default:
            report_violation(
                f"{label} declares no EBS block device, so its root volume's encryption depends on the AMI; add a "
                f"blockDeviceMappings entry with ebs.encrypted: true or enable aws.ebs.EncryptionByDefault.",
                resource.urn,
            )
            continue
        for device_label, device in devices:
            state = _state(device)
            if state == "off" or (state == "unset" and not by_default):
                where = "" if device_label == "volume" else f" {device_label}"
                report_violation(f"{label}{where} is not encrypted; {FIX}.", resource.urn)


POLICY = stack_rule(
    name=NAME,
    description=(
        "Checks whether EBS volumes, EC2 instance block devices and launch-template block devices are encrypted "
        "(or EBS encryption by default is on). Fix: set encrypted: true with the stack's KMS key."
    ),
    resource_types=(t.EBS_VOLUME, t.EC2_INSTANCE, t.EC2_LAUNCH_TEMPLATE, ENCRYPTION_BY_DEFAULT),
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
