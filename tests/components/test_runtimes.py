"""The serving runtime: one table (components/targets.py RUNTIMES), a checked argument of both
InferenceEndpoint and Monitoring, and the same keys in every backend that implements several."""

from __future__ import annotations

import importlib

import pytest

from components import ArgsError
from components.inference import resolve_inference_args
from components.monitoring import resolve_monitoring_args
from components.targets import RUNTIMES, TARGETS, runtimes_of


@pytest.mark.parametrize("concern", ["inference", "monitoring"])
@pytest.mark.parametrize("target", TARGETS)
def test_backends_implement_exactly_the_runtimes_of_their_target(concern, target):
    backend = importlib.import_module(f"components.{target}.{concern}")
    implemented = tuple(getattr(backend, "RUNTIMES", {"kubernetes": backend.build}))
    assert sorted(implemented) == sorted(runtimes_of(target))


@pytest.mark.parametrize("resolve, extra", [(resolve_inference_args, {"image": "r/s:1"}),
                                            (resolve_monitoring_args, {"endpoint_name": "e"})])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("runtime", list(RUNTIMES))
def test_runtime_is_accepted_exactly_on_its_targets(resolve, extra, target, runtime):
    args = {"target": target, "runtime": runtime, **extra}
    if target in RUNTIMES[runtime].targets:
        assert resolve(args).runtime == runtime
    else:
        with pytest.raises(ArgsError) as info:
            resolve(args)
        assert str(info.value) == (f"runtime: {runtime!r} is not allowed; allowed: a runtime of target "
                                   f"{target!r}: " + ", ".join(runtimes_of(target)))


def test_unknown_runtime_is_one_line():
    with pytest.raises(ArgsError) as info:
        resolve_monitoring_args({"target": "aws", "endpoint_name": "e", "runtime": "lambda"})
    assert str(info.value) == "runtime: 'lambda' is not allowed; allowed: kubernetes, sagemaker, azureml"


def test_the_stack_key_takes_the_table():
    from stacks.config import StackSettings

    field = StackSettings.model_fields["serving_runtime"]
    assert set(field.annotation.__args__) == set(RUNTIMES)
