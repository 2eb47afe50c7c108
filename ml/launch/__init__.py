"""Run the same training on local, aws or azure, configured from stack outputs.

``launch(target, outputs, config, options)`` is the one dispatch point: ``LAUNCHERS`` maps a
target to its module's entry, and nothing else branches on the target. Each entry returns one
human-readable line saying what it did.

- ``local``: trains in-process (``ml.launch.local.run``), or with ``options.manifest_path``
  writes a Kubernetes Job manifest for Minikube instead.
- ``aws``: submits a SageMaker training job (``ml.launch.aws``).
- ``azure``: builds an Azure ML command job (``ml.launch.azure``); ``options.job_file`` writes
  its YAML; ``options.dry_run`` stops before submitting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ml.launch.config import LaunchConfig
from ml.launch.outputs import OutputsError, StackOutputs, load_outputs

__all__ = [
    "LAUNCHERS",
    "LaunchConfig",
    "LaunchOptions",
    "OutputsError",
    "StackOutputs",
    "launch",
    "load_outputs",
]


@dataclass(frozen=True)
class LaunchOptions:
    """How to launch, beyond what to train (``LaunchConfig``)."""

    manifest_path: str | None = None  # local: write a Kubernetes Job here instead of training
    tracking_uri: str | None = None  # local: override the stack's tracking URI
    job_file: str | None = None  # azure: write the job YAML here
    dry_run: bool = False  # azure: build (and write) the job but do not submit


def _local(outputs: StackOutputs, config: LaunchConfig, options: LaunchOptions) -> str:
    from ml.launch import local

    if options.manifest_path:
        path = local.write_manifest(local.job_manifest(outputs, config), options.manifest_path)
        return f"wrote Kubernetes Job {config.job_name!r} to {path} (kubectl apply -f {path})"
    result = local.run(outputs, config, tracking_uri=options.tracking_uri)
    decision = "promoted to champion" if result.promoted else "not promoted"
    return (
        f"trained {result.model_name} version {result.version} (run {result.run_id}), "
        f"{result.metric_name}={result.metric_value:.4g}, {decision}: {result.reason}"
    )


def _aws(outputs: StackOutputs, config: LaunchConfig, options: LaunchOptions) -> str:
    from ml.launch import aws

    name = aws.submit(outputs, config)
    return f"submitted SageMaker training job {name} in {outputs.aws_region}"


def _azure(outputs: StackOutputs, config: LaunchConfig, options: LaunchOptions) -> str:
    from ml.launch import azure

    job = azure.build_job(outputs, config)
    written = ""
    if options.job_file:
        written = f"wrote {azure.dump_job(job, options.job_file)}; "
    if options.dry_run:
        return f"{written}dry run: Azure ML job not submitted"
    name = azure.submit(outputs, config)
    return f"{written}submitted Azure ML job {name} to workspace {outputs.azureml_workspace_name}"


LAUNCHERS: dict[str, Callable[[StackOutputs, LaunchConfig, LaunchOptions], str]] = {
    "local": _local,
    "aws": _aws,
    "azure": _azure,
}


def launch(
    target: str, outputs: StackOutputs, config: LaunchConfig, options: LaunchOptions | None = None
) -> str:
    """Launch ``config`` on ``target``; returns one line describing what was done."""
    try:
        launcher = LAUNCHERS[target]
    except KeyError:
        raise ValueError(f"unknown target {target!r}; choose one of: {', '.join(LAUNCHERS)}") from None
    return launcher(outputs, config, options or LaunchOptions())
