"""``python -m ml``: train, retrain-if-drifted, launch.

Progress goes to stderr as log lines; the outcome is one line on stdout (or JSON with
``--json``). Bad input or an unreachable service ends with ``error: <one line>`` on stderr and
exit code 2, never a traceback.

    python -m ml train --task demand|iris --tracking-uri URI --model-name NAME [--rows N] [--seed S]
    python -m ml retrain-if-drifted --serving-url http://127.0.0.1:PORT [train options]
    python -m ml launch --target local|aws|azure (--stack NAME | --outputs-file F) [options]
    python -m ml publish-sagemaker-model (--stack NAME | --outputs-file F) [--model-uri URI] [--key K]

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
    return parser


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
    "launch": _cmd_launch,
    "publish-sagemaker-model": _cmd_publish_sagemaker_model,
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
