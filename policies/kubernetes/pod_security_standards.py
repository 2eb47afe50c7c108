"""k8s-pod-security-standards: the Pod Security Standards controls the other pod rules do not
already cover (privileged, capabilities, host namespaces, hostPath, non-root, privilege
escalation have their own rules):

- baseline: no ``hostPort``; ``procMount`` Default; only the safe sysctls; AppArmor not
  ``Unconfined`` (field or the legacy annotation); seccomp not ``Unconfined``;
- restricted: a seccomp profile (RuntimeDefault or Localhost) on the pod or every container;
  only the restricted volume types (configMap, csi, downwardAPI, emptyDir, ephemeral,
  persistentVolumeClaim, projected, secret; hostPath is k8s-no-host-path's).

A ``*Patch`` is only judged on the fields it sets.
"""

from __future__ import annotations

from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies.lib import kubernetes as k8s
from policies.lib.props import as_list, dig, is_map, known
from policies.lib.rule import MANDATORY, resource_rule

NAME = "k8s-pod-security-standards"
SAFE_SYSCTLS = frozenset({
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
})
RESTRICTED_VOLUMES = frozenset({"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                                "projected", "secret", "name", "hostPath"})
GOOD_SECCOMP = ("RuntimeDefault", "Localhost")
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
FIX = "follow the restricted Pod Security Standard (components/kubernetes/security.py builds such contexts)"


def _seccomp(context: Any) -> str | None:
    return known(context, "seccompProfile", "type", if_unknown="RuntimeDefault")


def _findings(resource_type: str, props: Any, spec: Any) -> list[str]:
    patch = k8s.is_patch(resource_type)
    out = []
    pod_context = dig(spec, "securityContext") or {}
    pod_seccomp = _seccomp(pod_context)
    if pod_seccomp == "Unconfined":
        out.append("the pod's seccomp profile is Unconfined")
    if str(known(pod_context, "appArmorProfile", "type", default="")) == "Unconfined":
        out.append("the pod's AppArmor profile is Unconfined")
    unsafe = [str(known(s, "name", default="?")) for s in as_list(dig(pod_context, "sysctls"))
              if is_map(s) and str(known(s, "name", default="?", if_unknown="?")) not in SAFE_SYSCTLS]
    if unsafe:
        out.append(f"unsafe sysctls {', '.join(unsafe)}")
    for volume in as_list(dig(spec, "volumes")):
        if is_map(volume):
            kinds = sorted(set(volume) - RESTRICTED_VOLUMES)
            if kinds:
                out.append(f"volume '{known(volume, 'name', default='?')}' of type {', '.join(kinds)}")
    template_annotations = dig(props, "spec", "template", "metadata", "annotations") or dig(props, "metadata", "annotations") or {}
    if is_map(template_annotations):
        for key in template_annotations:
            if str(key).startswith(APPARMOR_ANNOTATION) and str(known(template_annotations, key, default="")) == "unconfined":
                out.append(f"AppArmor is unconfined for {str(key)[len(APPARMOR_ANNOTATION):]}")
    for label, container in k8s.containers(spec):
        context = dig(container, "securityContext") or {}
        seccomp = _seccomp(context)
        if seccomp == "Unconfined":
            out.append(f"{label} has seccomp Unconfined")
        elif seccomp is None and pod_seccomp not in GOOD_SECCOMP and not patch:
            out.append(f"{label} has no seccomp profile (set RuntimeDefault)")
        if str(known(context, "procMount", default="Default")) != "Default":
            out.append(f"{label} sets procMount {known(context, 'procMount')}")
        if str(known(context, "appArmorProfile", "type", default="")) == "Unconfined":
            out.append(f"{label} has AppArmor Unconfined")
        ports = [known(p, "hostPort", default=0, if_unknown=0) for p in as_list(dig(container, "ports")) if is_map(p)]
        bound = [str(int(float(p))) for p in ports if p not in (None, 0, 0.0)]
        if bound:
            out.append(f"{label} binds host port(s) {', '.join(bound)}")
    return out


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    spec = k8s.pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    findings = _findings(args.resource_type, args.props, spec)
    if findings:
        report_violation(f"{k8s.describe(args.resource_type, args.name)}: {'; '.join(findings)}; {FIX}.")


POLICY = resource_rule(
    name=NAME,
    description=(
        "Checks whether pods meet the rest of the Pod Security Standards: seccomp RuntimeDefault/Localhost, no host "
        "ports, procMount Default, safe sysctls only, AppArmor not Unconfined, restricted volume types. Fix: use the "
        "restricted security contexts."
    ),
    resource_types=k8s.WORKLOAD_TYPES,
    validate=validate,
    enforcement_level=MANDATORY,
    remediation=FIX,
)
