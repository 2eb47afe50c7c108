"""Issue 16 item 5: each component's outputs are one TypedDict its backends return, checked:
a key more, a key less, or a target-specific key on the wrong target fails loudly (they used to
be dropped silently), and target-specific outputs are absent (None) where they do not apply."""

from __future__ import annotations

import typing
from typing import Any

import pulumi
import pytest

import components
from components import base
from components.base import BackendOutputsError, check_outputs
from stacks.mocks import PlatformMocks
from stacks.plan import RecordingMonitor

FACADES = ["Network", "Cluster", "Registry", "TrainingPlatform", "InferenceEndpoint", "Monitoring"]


@pytest.mark.parametrize("name", FACADES)
def test_outputs_are_the_keys_of_one_typed_dict_and_the_class_annotations(name: str) -> None:
    cls = getattr(components, name)
    module = __import__(cls.__module__, fromlist=["x"])
    (typed,) = [v for k, v in vars(module).items() if k.endswith("Outputs") and isinstance(v, type)
                and typing.is_typeddict(v)]
    assert set(cls.OUTPUTS) == set(typed.__required_keys__)
    assert set(cls.ONLY_ON) == set(typed.__optional_keys__)
    # The analyzer reads class annotations: every output is one, the target-specific ones Optional.
    hints = cls.__annotations__
    for key in (*cls.OUTPUTS, *cls.ONLY_ON):
        assert key in hints, (name, key)
        optional = type(None) in typing.get_args(hints[key])
        assert optional == (key in cls.ONLY_ON), (name, key, hints[key])


def test_a_key_more_a_key_less_or_one_on_the_wrong_target_fails() -> None:
    only_on = {"vpc_id": ("aws",), "prom": ("local", "aws/kubernetes")}
    every = ("namespace",)
    assert check_outputs("N", {"target": "local"}, {"namespace": 1, "prom": 2}, every, only_on) == ["namespace", "prom"]
    assert check_outputs("N", {"target": "aws", "runtime": "sagemaker"}, {"namespace": 1, "vpc_id": 2}, every, only_on)
    with pytest.raises(BackendOutputsError, match=r"missing \['namespace'\]"):
        check_outputs("N", {"target": "local"}, {"prom": 2}, every, only_on)
    with pytest.raises(BackendOutputsError, match=r"not applicable \['vpc_id'\]"):
        check_outputs("N", {"target": "local"}, {"namespace": 1, "prom": 2, "vpc_id": 3}, every, only_on)
    with pytest.raises(BackendOutputsError, match=r"not applicable \['typo'\]"):
        check_outputs("N", {"target": "local"}, {"namespace": 1, "prom": 2, "typo": 3}, every, only_on)


def _network(monkeypatch: pytest.MonkeyPatch | None = None, extra: dict[str, Any] | None = None) -> Any:
    monitor = RecordingMonitor(PlatformMocks())
    pulumi.runtime.settings.set_root_resource(None)
    pulumi.runtime.set_mocks(monitor.mocks, project="mlops-platform", stack="t", preview=False, monitor=monitor)
    made: dict[str, Any] = {}

    @pulumi.runtime.test
    def program() -> None:
        made["network"] = components.Network("network", {"target": "local"})

    program()
    return made["network"]


def test_a_local_network_has_no_cloud_ids() -> None:
    network = _network()
    assert network.network_id is None and network.private_subnet_ids is None and network.cidr is None
    assert network.namespace is not None


def test_a_backend_returning_an_undeclared_key_fails_the_component(monkeypatch: pytest.MonkeyPatch) -> None:
    from components.local import network as local_network

    real = local_network.build
    monkeypatch.setattr(local_network, "build", lambda c, n, s: {**real(c, n, s), "network_id": "ns-name"})
    with pytest.raises(BackendOutputsError, match=r"Network backend \(local\) outputs: .*network_id"):
        _network()
    monkeypatch.setattr(local_network, "build", lambda c, n, s: {})
    with pytest.raises(BackendOutputsError, match=r"missing \['namespace'\]"):
        _network()
    assert base.applies(("aws/kubernetes",), {"target": "aws", "runtime": "kubernetes"})
