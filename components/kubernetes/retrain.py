"""Continuous training on the kubernetes runtime (Minikube, EKS, AKS): the retraining CronJobs
and the canary Deployment that serves the ``challenger``.

CronJobs (``python -m ml pipeline``, ml/pipeline.py, in the training image):

* ``<endpoint>-retrain`` on ``retrain_schedule`` (``--trigger schedule``) and
  ``<endpoint>-retrain-drift`` on ``retrain_drift_schedule`` (``--trigger drift``: reads the
  endpoint's ``/drift/status`` and trains only on confirmed drift); either off when empty;
* ``concurrencyPolicy: Forbid`` (a run never overlaps the previous one), bounded history,
  ``startingDeadlineSeconds``, a Job deadline covering training plus the canary bake, one retry
  (the Job name is the job key, so a retry resumes instead of registering twice);
* pods labelled ``app.kubernetes.io/name: mlops-training`` (what the namespace's MLflow policies
  admit) and the endpoint's client label (its NetworkPolicy admits them for ``/drift/status``),
  non-root, read-only root filesystem, no service-account token;
* ``ML_IMAGE_URI`` is the image the Job runs (lineage: ml.train logs it and its digest).

Canary (``canary_bake_minutes`` > 0): a second Deployment ``<endpoint>-canary``, the same
image and settings with ``SERVING_MODEL_URI`` ``models:/<name>@challenger``, one replica, pod
label ``mlops-platform/track: canary`` (the stable Deployment's pods carry ``stable``). The
endpoint's Service selects both tracks, so the canary takes one replica's share of the traffic
(1 / (stable replicas + 1)). The pipeline then runs ml.canary: it polls Prometheus for the
canary pods' 5xx ratio and p99 latency, built by the same expressions the alert rules use
(components/kubernetes/alerts.py, scoped with ``pod=~"<endpoint>-canary-.*"``), against the same
thresholds (``errorRate``, ``latencyP99Seconds``), and promotes or rolls back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes.batch.v1 as batch
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.meta.v1 as meta
import pulumi_kubernetes.networking.v1 as net

from . import alerts, security
from .tenancy import APP, NAMESPACE_NAME_LABEL, PROMETHEUS_APP, SERVING_APP, SERVING_PORT, TRAINING_APP

TRACK_LABEL = "mlops-platform/track"
CHALLENGER_ALIAS = "challenger"
TRAINING_UID = 10001
PROMETHEUS_PORT = 9090
#: Training plus registering, before the canary bake (seconds).
TRAIN_DEADLINE_S = 3600
HISTORY_LIMIT = 3
STARTING_DEADLINE_S = 600

_FIELD = r"(\*|\d+|[A-Za-z]{3})(-(\d+|[A-Za-z]{3}))?(/\d+)?"
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MACROS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
          "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
CRON_HELP = ("a 5-field cron expression (minute hour day-of-month month day-of-week, e.g. '0 3 * * *'), "
             "a macro (@hourly, @daily, @weekly, @monthly, @yearly), or empty for off")


def _value(token: str, index: int) -> int | None:
    if token.isdigit():
        return int(token)
    names = _MONTHS if index == 3 else _DAYS if index == 4 else ()
    upper = token.upper()
    return names.index(upper) + (1 if index == 3 else 0) if upper in names else None


def cron_error(expr: str) -> str | None:
    """Why ``expr`` is not a cron schedule Kubernetes, Azure ML and (converted) EventBridge all
    take, or None. Empty is valid (off)."""
    text = expr.strip()
    if not text:
        return None
    fields = MACROS.get(text, text).split()
    if len(fields) != 5:
        return f"has {len(fields)} fields, not 5"
    for index, field in enumerate(fields):
        low, high = _BOUNDS[index]
        for item in field.split(","):
            match = re.fullmatch(_FIELD, item)
            if not match:
                return f"{_FIELD_NAMES[index]} field {field!r} is not *, N, N-M, */S or a list of them"
            for token in (match.group(1), match.group(3)):
                if token is None or token == "*":
                    continue
                number = _value(token, index)
                if number is None or not low <= number <= high:
                    return f"{_FIELD_NAMES[index]} {token!r} is outside {low}-{high}"
            if match.group(4) and int(match.group(4)[1:]) == 0:
                return f"{_FIELD_NAMES[index]} step must be >= 1"
    return None


def normalise_cron(expr: str) -> str:
    """The 5 fields of ``expr`` (macros expanded)."""
    text = expr.strip()
    return MACROS.get(text, text)


def eventbridge_cron(expr: str) -> str:
    """The EventBridge ``cron(...)`` form of a 5-field cron expression: a sixth (year) field,
    ``?`` in day-of-month or day-of-week (EventBridge refuses both set), day-of-week 1-7 = SUN-SAT
    (cron's 0-7 with 0 and 7 both Sunday). ``ValueError`` when EventBridge cannot express it."""
    if cron_error(expr):
        raise ValueError(f"{expr!r} {cron_error(expr)}")
    minute, hour, dom, month, dow = normalise_cron(expr).split()
    if dom != "*" and dow != "*":
        raise ValueError(f"{expr!r}: EventBridge cannot restrict both day of month and day of week")

    def shift(token: str) -> str:
        return str(int(token) % 7 + 1) if token.isdigit() else token.upper()

    if dow == "*":
        dow = "?"
    else:
        dom = "?"
        items = []
        for item in dow.split(","):
            match = re.fullmatch(_FIELD, item)
            assert match is not None
            head = "*" if match.group(1) == "*" else shift(match.group(1))
            tail = f"-{shift(match.group(3))}" if match.group(3) else ""
            items.append(head + tail + (match.group(4) or ""))
        dow = ",".join(items)
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


def challenger_uri(model_uri: str) -> str:
    """``models:/<name>@<alias>`` -> ``models:/<name>@challenger`` (``ValueError`` otherwise)."""
    match = re.fullmatch(r"models:/([^/@]+)@[^/@]+", model_uri or "")
    if not match:
        raise ValueError(f"a canary needs model_uri models:/<name>@<alias>, got {model_uri!r}")
    return f"models:/{match.group(1)}@{CHALLENGER_ALIAS}"


def model_name(model_uri: str) -> str:
    """The registered model behind ``models:/<name>@<alias>`` or ``models:/<name>/<version>``."""
    match = re.fullmatch(r"models:/([^/@]+)([@/][^/@]+)", model_uri or "")
    if not match:
        raise ValueError(f"retraining needs model_uri models:/<name>@<alias>, got {model_uri!r}")
    return match.group(1)


def canary_scope(namespace: str, service: str, endpoint: str) -> alerts.Scope:
    """The alert rules' scope narrowed to the canary Deployment's pods."""
    return alerts.Scope(namespace, service, pod=f"{endpoint}-canary-.*")


def pipeline_args(settings: Mapping[str, Any], trigger: str, serving_url: str, namespace: str,
                  service: str, endpoint: str, prometheus_url: str) -> list[str]:
    """Arguments of ``python -m ml`` for one CronJob (the image's entrypoint)."""
    args = ["pipeline", "--trigger", trigger, "--task", settings["retrain_task"],
            "--model-name", model_name(settings["model_uri"]),
            "--cooldown", str(int(settings["retrain_cooldown_minutes"]) * 60)]
    if trigger == "drift":
        args += ["--serving-url", serving_url]
    if settings.get("retrain_data_uri"):
        args += ["--data-uri", settings["retrain_data_uri"]]
    bake = int(settings.get("canary_bake_minutes") or 0)
    if bake > 0:
        scope = canary_scope(namespace, service, endpoint)
        args += [
            "--prometheus-url", prometheus_url,
            "--error-query", alerts.error_ratio_expr(scope),
            "--latency-query", alerts.latency_quantile_expr(scope, 0.99),
            "--max-error-rate", repr(float(settings["error_rate"])),
            "--max-latency-p99", repr(float(settings["latency_p99_seconds"])),
            "--bake", str(bake * 60),
            "--poll", "30",
        ]
    return args


@dataclass(frozen=True)
class RetrainObjects:
    cron_jobs: list[batch.CronJob]
    network_policy: net.NetworkPolicy | None


def training_labels(labels: Mapping[str, str], client_label: str) -> dict[str, str]:
    return {**labels, APP: TRAINING_APP, "app.kubernetes.io/component": "retraining", client_label: "true"}


def create_retraining(name: str, settings: Mapping[str, Any], labels: Mapping[str, str], parent: pulumi.Resource,
                      serving_url: pulumi.Input[str], service_name: pulumi.Input[str], client_label: str,
                      allow_https_egress: bool) -> RetrainObjects:
    """The CronJobs of the module docstring (none when both schedules are empty)."""
    schedules = {"schedule": settings.get("retrain_schedule") or "",
                 "drift": settings.get("retrain_drift_schedule") or ""}
    if not any(schedules.values()):
        return RetrainObjects([], None)
    namespace = settings["namespace"]
    image = settings["training_image"]
    pod_labels = training_labels(labels, client_label)
    opts = pulumi.ResourceOptions(parent=parent)
    bake_s = int(settings.get("canary_bake_minutes") or 0) * 60
    jobs = []
    for trigger, schedule in schedules.items():
        if not schedule:
            continue
        suffix = "retrain" if trigger == "schedule" else "retrain-drift"
        args = pulumi.Output.all(serving_url, namespace, service_name, settings.get("prometheus_url") or "").apply(
            lambda a, trigger=trigger: pipeline_args(settings, trigger, a[0], a[1], a[2], name, a[3])
        )
        container = core.ContainerArgs(
            name="pipeline",
            image=image,
            image_pull_policy=settings["image_pull_policy"],
            args=args,
            env=[
                core.EnvVarArgs(name="MLFLOW_TRACKING_URI", value=settings["tracking_uri"]),
                core.EnvVarArgs(name="ML_IMAGE_URI", value=image),
                # One key per Job: its retry resumes the same run instead of registering twice.
                core.EnvVarArgs(name="ML_JOB_KEY", value_from=core.EnvVarSourceArgs(
                    field_ref=core.ObjectFieldSelectorArgs(field_path="metadata.labels['job-name']"))),
                core.EnvVarArgs(name="HOME", value="/tmp"),
                core.EnvVarArgs(name="TMPDIR", value="/tmp"),
            ],
            resources=security.resources("500m", "1Gi", "2", "4Gi"),
            security_context=security.container_security_context(TRAINING_UID),
            volume_mounts=[core.VolumeMountArgs(name="tmp", mount_path="/tmp")],
        )
        jobs.append(batch.CronJob(
            f"{name}-{suffix}",
            metadata=meta.ObjectMetaArgs(name=f"{name}-{suffix}", namespace=namespace, labels=pod_labels),
            spec=batch.CronJobSpecArgs(
                schedule=normalise_cron(schedule),
                time_zone="Etc/UTC",
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_S,
                successful_jobs_history_limit=HISTORY_LIMIT,
                failed_jobs_history_limit=HISTORY_LIMIT,
                job_template=batch.JobTemplateSpecArgs(
                    metadata=meta.ObjectMetaArgs(labels=pod_labels),
                    spec=batch.JobSpecArgs(
                        backoff_limit=1,
                        active_deadline_seconds=TRAIN_DEADLINE_S + 2 * bake_s,
                        ttl_seconds_after_finished=86_400,
                        template=core.PodTemplateSpecArgs(
                            metadata=meta.ObjectMetaArgs(labels=pod_labels),
                            spec=core.PodSpecArgs(
                                restart_policy="Never",
                                automount_service_account_token=False,
                                enable_service_links=False,
                                security_context=security.pod_security_context(TRAINING_UID),
                                containers=[container],
                                volumes=[security.tmp_volume(size="2Gi")],
                            ),
                        ),
                    ),
                ),
            ),
            opts=opts,
        ))
    policy = net.NetworkPolicy(
        f"{name}-retrain-egress",
        metadata=meta.ObjectMetaArgs(name=f"{name}-retrain-egress", namespace=namespace, labels=dict(labels)),
        spec=retrain_policy_spec(name, allow_https_egress),
        opts=opts,
    )
    return RetrainObjects(jobs, policy)


def retrain_policy_spec(endpoint: str, allow_https_egress: bool) -> net.NetworkPolicySpecArgs:
    """Egress of the retraining pods beyond the namespace baseline (DNS, MLflow): the serving
    pods' ``/drift/status``, Prometheus's query API (canary), HTTPS on cloud targets."""
    return net.NetworkPolicySpecArgs(
        pod_selector=meta.LabelSelectorArgs(match_labels={APP: TRAINING_APP, "app.kubernetes.io/component": "retraining"}),
        policy_types=["Egress"],
        egress=[
            net.NetworkPolicyEgressRuleArgs(
                to=[net.NetworkPolicyPeerArgs(pod_selector=meta.LabelSelectorArgs(
                    match_labels={APP: SERVING_APP, "app.kubernetes.io/instance": endpoint}))],
                ports=[net.NetworkPolicyPortArgs(port=SERVING_PORT, protocol="TCP")],
            ),
            net.NetworkPolicyEgressRuleArgs(
                to=[net.NetworkPolicyPeerArgs(
                    namespace_selector=meta.LabelSelectorArgs(
                        match_expressions=[meta.LabelSelectorRequirementArgs(key=NAMESPACE_NAME_LABEL, operator="Exists")]),
                    pod_selector=meta.LabelSelectorArgs(match_labels={APP: PROMETHEUS_APP}))],
                ports=[net.NetworkPolicyPortArgs(port=PROMETHEUS_PORT, protocol="TCP")],
            ),
            *([net.NetworkPolicyEgressRuleArgs(ports=[net.NetworkPolicyPortArgs(port=443, protocol="TCP")])]
              if allow_https_egress else []),
        ],
    )
