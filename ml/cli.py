"""``python -m ml``: train, retrain-if-drifted, launch.

Progress goes to stderr as log lines; the outcome is one line on stdout (or JSON with
``--json``). Bad input or an unreachable service ends with ``error: <one line>`` on stderr and
exit code 2, never a traceback.

    python -m ml train --task demand|iris --tracking-uri URI --model-name NAME [--rows N] [--seed S]
    python -m ml retrain-if-drifted --serving-url http://127.0.0.1:PORT [train options]
    python -m ml pipeline --trigger schedule|drift --task T --model-name N [--data-uri U] [canary options]
    python -m ml canary --model-name N --prometheus-url URL --error-query Q --latency-query Q ...
    python -m ml launch --target local|aws|azure (--stack NAME | --outputs-file F) [options]
    python -m ml publish-sagemaker-model (--stack NAME | --outputs-file F) [--model-uri URI] [--key K]
    python -m ml drift-job --captures S3_OR_DIR --reference REF --endpoint NAME [--publish cloudwatch]

``--tracking-uri`` defaults to ``MLFLOW_TRACKING_URI``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from ml.tasks import TASKS

__all__ = ["main"]

EXIT_ERROR = 2


class CliError(Exception):
    """An expected failure, reported as one line."""


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _add_train_options(p: argparse.ArgumentParser, *, need_uri: bool) -> None:
    p.add_argument("--task", choices=sorted(TASKS), required=True, help="what to train")
    p.add_argument("--model-name", required=True, help="registered model name in MLflow")
    if need_uri:
        p.add_argument(
            "--tracking-uri",
            default=os.environ.get("MLFLOW_TRACKING_URI"),
            help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI)",
        )
    p.add_argument("--rows", type=_positive_int, default=None, help="rows to generate/use")
    p.add_argument("--seed", type=int, default=0, help="random seed (data, split, model)")
    p.add_argument("--data-csv", default=None,
                   help="train on these rows (features + target, e.g. recent labelled traffic) "
                   "instead of the task's generator")
    p.add_argument("--gate-test", choices=["bootstrap", "t-test", "none"], default="bootstrap",
                   help="paired significance test of the promotion gate (default: bootstrap)")
    p.add_argument("--gate-alpha", type=float, default=0.05,
                   help="one-sided significance level of the gate (default: 0.05)")
    p.add_argument("--job-key", default=None,
                   help="identifies one job across retries (default: $ML_JOB_KEY, "
                   "$TRAINING_JOB_NAME, $AZUREML_RUN_ID)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="keep checkpoints here and resume from them (default: $ML_CHECKPOINT_DIR, "
                   "or /opt/ml/checkpoints inside a SageMaker job)")


def _add_canary_options(p: argparse.ArgumentParser, *, required: bool) -> None:
    what = "" if required else " (with --prometheus-url: canary rollout via the challenger alias)"
    p.add_argument("--prometheus-url", required=required, default=None,
                   help=f"Prometheus base URL{what}")
    p.add_argument("--error-query", default="", help="PromQL: the canary pods' 5xx ratio")
    p.add_argument("--latency-query", default="", help="PromQL: the canary pods' p99 latency (s)")
    p.add_argument("--max-error-rate", type=float, default=0.05, help="roll back above this 5xx ratio")
    p.add_argument("--max-latency-p99", type=float, default=0.5, help="roll back above this p99 (s)")
    p.add_argument("--bake", type=float, default=1800.0, help="bake time in seconds (default 1800)")
    p.add_argument("--poll", type=float, default=30.0, help="seconds between Prometheus checks")


def _canary_config(args: argparse.Namespace) -> Any:
    if not args.prometheus_url:
        return None
    from ml.canary import CanaryConfig

    return CanaryConfig(
        prometheus_url=args.prometheus_url, error_query=args.error_query, latency_query=args.latency_query,
        max_error_rate=args.max_error_rate, max_latency_p99_s=args.max_latency_p99,
        bake_s=args.bake, poll_s=args.poll,
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ml", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train, log to MLflow, register, gate the champion alias")
    _add_train_options(train, need_uri=True)
    train.add_argument("--experiment", default=None, help="MLflow experiment (default: model name)")
    train.add_argument(
        "--param", action="append", type=_parse_param, default=[], metavar="KEY=VALUE",
        help="estimator hyper-parameter override, JSON value (repeatable), e.g. max_iter=50",
    )
    train.add_argument("--min-improvement", type=float, default=0.0,
                       help="margin by which a new version must beat the champion")
    train.add_argument("--json", action="store_true", help="print the result as JSON")

    retrain = sub.add_parser("retrain-if-drifted", help="train when the serving app reports drift")
    retrain.add_argument("--serving-url", required=True, help="base URL of the serving app")
    retrain.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for it")
    retrain.add_argument("--cooldown", type=float, default=3600.0,
                         help="seconds after the newest version during which drift does not "
                         "retrain again (default: 3600)")
    _add_train_options(retrain, need_uri=True)
    retrain.add_argument("--json", action="store_true", help="print the outcome as JSON")

    pipeline = sub.add_parser(
        "pipeline", help="retraining pipeline: recent data -> train -> gate -> register -> deploy (ml.pipeline)")
    pipeline.add_argument("--trigger", choices=["schedule", "drift"], required=True,
                          help="schedule: always retrain; drift: only when the serving app reports drift")
    pipeline.add_argument("--task", choices=sorted(TASKS), required=True)
    pipeline.add_argument("--model-name", required=True)
    pipeline.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                          help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI)")
    pipeline.add_argument("--serving-url", default=None, help="drift trigger: base URL of the serving app")
    pipeline.add_argument("--data-uri", default=None,
                          help="CSV of recent labelled rows (path, http(s)://, runs:/, s3://, azureml://); "
                          "default: the task's generator for the current window")
    pipeline.add_argument("--rows", type=_positive_int, default=None, help="at most this many (latest) rows")
    pipeline.add_argument("--cooldown", type=float, default=3600.0,
                          help="seconds after the newest version during which nothing retrains (default 3600)")
    pipeline.add_argument("--window", type=float, default=86400.0,
                          help="seconds per synthetic data window when no --data-uri (default 86400)")
    pipeline.add_argument("--gate-test", choices=["bootstrap", "t-test", "none"], default="bootstrap")
    pipeline.add_argument("--gate-alpha", type=float, default=0.05)
    pipeline.add_argument("--job-key", default=None)
    _add_canary_options(pipeline, required=False)
    pipeline.add_argument("--json", action="store_true", help="print the outcome as JSON")

    canary = sub.add_parser("canary", help="bake the challenger and promote or roll it back (ml.canary)")
    canary.add_argument("--model-name", required=True)
    canary.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI)")
    _add_canary_options(canary, required=True)
    canary.add_argument("--json", action="store_true", help="print the outcome as JSON")

    launch = sub.add_parser("launch", help="run training on local, aws or azure from stack outputs")
    launch.add_argument("--target", choices=["local", "aws", "azure"], required=True)
    src = launch.add_mutually_exclusive_group(required=True)
    src.add_argument("--stack", help="read `pulumi stack output --json --stack NAME`")
    src.add_argument("--outputs-file", help="JSON file with the same keys as the stack outputs")
    launch.add_argument("--task", choices=sorted(TASKS), default="demand")
    launch.add_argument("--model-name", default=None, help="default: the task name")
    launch.add_argument("--rows", type=_positive_int, default=None)
    launch.add_argument("--seed", type=int, default=0)
    launch.add_argument("--job-name", default="mlops-train", help="job name (prefix)")
    launch.add_argument("--instance-type", default="ml.m5.large", help="aws instance type")
    launch.add_argument("--instance-count", type=_positive_int, default=1)
    launch.add_argument("--spot", dest="use_spot", action=argparse.BooleanOptionalAction,
                        default=True, help="aws managed spot training (default: on)")
    launch.add_argument("--max-run", type=_positive_int, default=3600, help="max run seconds")
    launch.add_argument("--max-wait", type=_positive_int, default=7200,
                        help="aws spot: max seconds including waiting for capacity")
    launch.add_argument("--checkpoint", action=argparse.BooleanOptionalAction, default=True,
                        help="aws: sync /opt/ml/checkpoints to the artifact bucket")
    launch.add_argument("--manifest", default=None,
                        help="local: write a Kubernetes Job manifest here instead of training")
    launch.add_argument("--tracking-uri", default=None,
                        help="local: override the stack's tracking URI (e.g. a port-forward)")
    launch.add_argument("--job-file", default=None, help="azure: write the job YAML here")
    launch.add_argument("--dry-run", action="store_true", help="azure: build but do not submit")

    publish = sub.add_parser(
        "publish-sagemaker-model",
        help="package an MLflow model as model.tar.gz and upload it for servingRuntime: sagemaker",
    )
    psrc = publish.add_mutually_exclusive_group(required=True)
    psrc.add_argument("--stack", help="read `pulumi stack output --json --stack NAME`")
    psrc.add_argument("--outputs-file", help="JSON file with the same keys as the stack outputs")
    publish.add_argument("--model-uri", default="models:/demand@champion",
                         help="MLflow model to package (default: models:/demand@champion)")
    publish.add_argument("--key", default="models/demand/champion/model.tar.gz",
                         help="S3 key in the artifact bucket; must equal the stack's "
                         "awsSagemakerModelDataKey (default: its default)")
    publish.add_argument("--tracking-uri", default=None,
                         help="override the stack's mlflow_tracking_uri (e.g. a port-forward)")
    job = sub.add_parser(
        "drift-job",
        help="managed runtimes: captured requests -> the serving drift verdict -> a CloudWatch metric",
    )
    job.add_argument("--captures", required=True,
                     help="data capture location: s3://bucket/data-capture/<endpoint>/ or a local directory")
    job.add_argument("--reference", required=True,
                     help="the model's drift reference: s3://.../model.tar.gz, models:/NAME@ALIAS, or a CSV")
    job.add_argument("--endpoint", required=True, help="endpoint name (the alarm's Endpoint dimension)")
    job.add_argument("--window-minutes", type=_positive_int, default=60,
                     help="captures of the last N minutes (default 60, the alarm's period)")
    job.add_argument("--min-rows", type=_positive_int, default=100,
                     help="fewest usable rows for a verdict (default 100, serving's drift_min_rows)")
    job.add_argument("--publish", choices=["none", "cloudwatch"], default="none",
                     help="where the verdict goes besides stdout (default: none)")
    job.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI"),
                     help="for a models:/ reference (default: $MLFLOW_TRACKING_URI)")
    return parser


def _cmd_drift_job(args: argparse.Namespace) -> str:
    from ml import drift_job

    try:
        import botocore.exceptions as boto_errors

        aws_errors: tuple[type[BaseException], ...] = (boto_errors.BotoCoreError, boto_errors.ClientError)
    except ImportError:  # no aws-runtime extra: only local captures and references work
        aws_errors = ()
    try:
        result = drift_job.run(args.captures, args.reference, args.endpoint, window_minutes=args.window_minutes,
                               min_rows=args.min_rows, publish=args.publish, tracking_uri=args.tracking_uri)
    except aws_errors as exc:
        raise CliError(f"AWS: {_one_line(exc)}") from None
    return json.dumps({**result.status, "records": result.records, "skipped": result.skipped})


def _check_tracking_uri(uri: str | None) -> str:
    if not uri:
        raise CliError("no tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI")
    if uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=10) as resp:
                resp.read()
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise CliError(f"cannot reach MLflow tracking server at {uri}: {reason}") from None
    return uri


def _train_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    from ml.gate import GateConfig

    data = None
    if args.data_csv:
        import pandas as pd

        from ml.tasks import get_task

        spec = get_task(args.task)
        try:
            data = pd.read_csv(args.data_csv, parse_dates=["date"] if args.task == "demand" else None)
        except (OSError, ValueError) as exc:
            raise CliError(f"--data-csv {args.data_csv}: {_one_line(exc)}") from None
        missing = [c for c in (*spec.features, spec.target) if c not in data.columns]
        if missing:
            raise CliError(f"--data-csv {args.data_csv} lacks column(s): {', '.join(missing)}")
    return {
        "task": args.task,
        "tracking_uri": _check_tracking_uri(args.tracking_uri),
        "model_name": args.model_name,
        "rows": args.rows,
        "seed": args.seed,
        "data": data,
        "data_source": args.data_csv,
        "job_key": args.job_key,
        "checkpoint_dir": args.checkpoint_dir,
        "gate": GateConfig(test=args.gate_test, alpha=args.gate_alpha,
                           min_improvement=getattr(args, "min_improvement", 0.0)),
    }


def _cmd_train(args: argparse.Namespace) -> str:
    from ml.train import train

    result = train(
        **_train_kwargs(args),
        experiment=args.experiment,
        params=dict(args.param),
    )
    if result.decision == "skipped":
        return result.reason
    if args.json:
        return json.dumps(dataclasses.asdict(result), indent=2)
    decision = "promoted to champion" if result.promoted else "not promoted"
    return (
        f"{result.model_name} version {result.version} (run {result.run_id}): "
        f"{result.metric_name}={result.metric_value:.4g}, {decision}: {result.reason}"
    )


def _cmd_retrain(args: argparse.Namespace) -> str:
    from ml.retrain import retrain_if_drifted
    from ml.train import train

    uri = args.tracking_uri
    if not uri:
        raise CliError("no tracking URI: pass --tracking-uri or set MLFLOW_TRACKING_URI")

    def run_training() -> Any:
        return train(**_train_kwargs(args))

    def last_version_at() -> float | None:
        from contract.mlflow_clients import client as mlflow_client

        client = mlflow_client(uri)
        versions = client.search_model_versions(f"name = '{args.model_name}'")
        return max((v.creation_timestamp / 1000.0 for v in versions), default=None)

    outcome = retrain_if_drifted(args.serving_url, run_training, timeout=args.timeout,
                                 last_version_at=last_version_at, cooldown_s=args.cooldown)
    if args.json:
        return json.dumps(
            {
                "drifted": outcome.drifted,
                "message": outcome.message,
                "result": dataclasses.asdict(outcome.result) if outcome.result else None,
            },
            indent=2,
        )
    return outcome.message


def _cmd_pipeline(args: argparse.Namespace) -> str:
    from ml.gate import GateConfig
    from ml.pipeline import run_pipeline

    outcome = run_pipeline(
        task=args.task, tracking_uri=_check_tracking_uri(args.tracking_uri), model_name=args.model_name,
        trigger=args.trigger, serving_url=args.serving_url, data_uri=args.data_uri, rows=args.rows,
        cooldown_s=args.cooldown, window_s=args.window,
        gate=GateConfig(test=args.gate_test, alpha=args.gate_alpha), canary=_canary_config(args),
        job_key=args.job_key,
    )
    if args.json:
        return json.dumps({
            "trained": outcome.trained, "message": outcome.message,
            "result": dataclasses.asdict(outcome.result) if outcome.result else None,
            "canary": dataclasses.asdict(outcome.canary) if outcome.canary else None,
        }, indent=2)
    return outcome.message


def _cmd_canary(args: argparse.Namespace) -> str:
    from contract.mlflow_clients import client as mlflow_client
    from ml.canary import bake

    config = _canary_config(args)
    uri = _check_tracking_uri(args.tracking_uri)
    outcome = bake(mlflow_client(uri), args.model_name, config)
    if args.json:
        return json.dumps(dataclasses.asdict(outcome), indent=2)
    return f"{outcome.decision}: {outcome.reason}"


def _cmd_launch(args: argparse.Namespace) -> str:
    from ml.launch import LaunchConfig, LaunchOptions, launch, load_outputs

    config = LaunchConfig(
        task=args.task,
        model_name=args.model_name or args.task,
        rows=args.rows,
        seed=args.seed,
        job_name=args.job_name,
        instance_type=args.instance_type,
        instance_count=args.instance_count,
        use_spot=args.use_spot,
        max_run_seconds=args.max_run,
        max_wait_seconds=args.max_wait,
        checkpoint=args.checkpoint,
    )
    outputs = load_outputs(stack=args.stack, outputs_file=args.outputs_file)
    options = LaunchOptions(
        manifest_path=args.manifest,
        tracking_uri=_check_tracking_uri(args.tracking_uri) if args.tracking_uri else None,
        job_file=args.job_file,
        dry_run=args.dry_run,
    )
    if args.target == "local" and not args.manifest and not args.tracking_uri:
        _check_tracking_uri(outputs.mlflow_tracking_uri)
    try:
        return launch(args.target, outputs, config, options)
    except (CliError, ValueError, ConnectionError, FileNotFoundError, PermissionError):
        raise
    except Exception as exc:  # any cloud SDK error (botocore, sagemaker, azure): one line
        if args.target == "local":
            raise
        raise CliError(f"{args.target} launch failed: {type(exc).__name__}: {_one_line(exc)}") from None


def _cmd_publish_sagemaker_model(args: argparse.Namespace) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    from ml.launch import load_outputs
    from ml.launch.sagemaker_model import _publish

    outputs = load_outputs(stack=args.stack, outputs_file=args.outputs_file)
    outputs.require("artifact_bucket", "kms_key_arn", purpose="publishing the SageMaker model")
    tracking_uri = _check_tracking_uri(args.tracking_uri or outputs.mlflow_tracking_uri)
    try:
        uri, packaged = _publish(
            outputs, args.model_uri, key=args.key, s3_client=None, tracking_uri=tracking_uri
        )
    except (BotoCoreError, ClientError) as exc:
        raise CliError(f"upload to s3://{outputs.artifact_bucket}/{args.key} failed: {_one_line(exc)}") from None
    what = f"{packaged.name} version {packaged.version}" if packaged.version else args.model_uri
    return f"published {what} (run {packaged.run_id}) to {uri}"


_COMMANDS = {
    "train": _cmd_train,
    "retrain-if-drifted": _cmd_retrain,
    "pipeline": _cmd_pipeline,
    "canary": _cmd_canary,
    "launch": _cmd_launch,
    "publish-sagemaker-model": _cmd_publish_sagemaker_model,
    "drift-job": _cmd_drift_job,
}


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("urllib3", "botocore", "azure", "alembic", "sagemaker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The sagemaker-mlflow plugin's header provider raises on any tracking URI that is not a
    # SageMaker ARN, and MLflow logs that as a warning on every request; it is harmless.
    logging.getLogger("mlflow.tracking.request_header.registry").setLevel(logging.ERROR)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    first = text.splitlines()[0]
    return first if len(first) <= 500 else first[:497] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    _configure_logging()
    from mlflow.exceptions import MlflowException

    from ml.gate import PromotionAborted
    from ml.retrain import ServingUnreachable

    expected: tuple[type[BaseException], ...] = (
        CliError,
        PromotionAborted,
        ValueError,
        ServingUnreachable,
        ConnectionError,
        MlflowException,
        FileNotFoundError,
        PermissionError,
    )
    try:
        # Libraries print progress to stdout (MLflow's run links); keep stdout for the outcome.
        with contextlib.redirect_stdout(sys.stderr):
            outcome = _COMMANDS[args.command](args)
        print(outcome)
    except expected as exc:
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except ImportError as exc:
        print(f"error: missing dependency for {args.command}: {_one_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    return 0
