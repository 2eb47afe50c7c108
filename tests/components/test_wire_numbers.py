"""Numbers as another language's program hands them to the components.

Found by the e2e tier's TypeScript level (scripts/e2e/typescript.sh): a TypeScript program's
``new InferenceEndpoint("e", {minReplicas: 1, ...})`` reaches components/__main__.py (the
component provider) as a protobuf Struct, whose numbers are all doubles, so the component saw
``min_replicas=1.0`` and refused it ("1.0 is not allowed; allowed: a whole number"), while
Python callers, the mocks and the offline plan all pass ``1``. The component now takes a
whole-number float where its Args declare ``int``; a real fraction is still refused.
"""

from __future__ import annotations

import pulumi
import pytest

from components.base import wire_ints
from components.cluster import ClusterArgs
from components.inference import InferenceEndpoint, InferenceEndpointArgs
from stacks.plan import _CAPTURE_LOCK, PlatformMocks, RecordingMonitor, _ensure_event_loop

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"


def construct_endpoint(args: dict) -> list[dict]:
    """Construct one InferenceEndpoint under the mocks (as the component provider would)."""
    with _CAPTURE_LOCK:
        _ensure_event_loop()
        monitor = RecordingMonitor(PlatformMocks())
        pulumi.runtime.settings.set_root_resource(None)
        pulumi.runtime.set_mocks(monitor.mocks, project="wire", stack="dev", preview=True, monitor=monitor)

        @pulumi.runtime.test
        def run() -> None:
            InferenceEndpoint("wire", args)

        run()
        return monitor.records


STRUCT_ARGS = {  # what the provider receives from `{minReplicas: 2, maxReplicas: 4, ...}` in TypeScript
    "target": "local", "image": "r/serving:1", "namespace": "mlops",
    "min_replicas": 2.0, "max_replicas": 4.0, "target_cpu_utilization": 60.0,
}


def test_struct_doubles_construct_like_python_ints():
    records = construct_endpoint(dict(STRUCT_ARGS))
    (hpa,) = [r for r in records if r["type"] == HPA]
    spec = hpa["inputs"]["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 4)
    # min_replicas >= 2 keeps one pod through disruptions: the comparison saw the number
    (pdb,) = [r for r in records if r["type"] == PDB]
    assert pdb["inputs"]["spec"]["minAvailable"] == 1


def test_a_fraction_is_still_refused_in_one_line():
    with pytest.raises(Exception) as info:
        construct_endpoint({**STRUCT_ARGS, "min_replicas": 1.5})
    assert "min_replicas: 1.5 is not allowed; allowed: a whole number from 1 to 100" in str(info.value)


def test_only_int_fields_are_converted_and_blocks_are_walked():
    out = wire_ints({"min_replicas": 3.0, "image": "r/s:1", "tags": {"team": "x"}}, InferenceEndpointArgs)
    assert out == {"min_replicas": 3, "image": "r/s:1", "tags": {"team": "x"}}
    assert type(out["min_replicas"]) is int
    # a float field keeps its float; a bool is never an int here
    from components.monitoring import MonitoringArgs
    assert wire_ints({"error_rate": 1.0, "retention_days": 7.0}, MonitoringArgs) == {"error_rate": 1.0, "retention_days": 7}
    assert type(wire_ints({"error_rate": 1.0}, MonitoringArgs)["error_rate"]) is float
    assert wire_ints({"node_count": 2.0, "protect_data": True}, ClusterArgs) == {"node_count": 2, "protect_data": True}
