"""Continuous training on the kubernetes runtime, as the stacks declare it (Pulumi mocks): the
retraining CronJobs, the canary Deployment, their NetworkPolicies, the config keys.

Checked against independent parties: the real ``python -m ml`` argument parser accepts what the
CronJobs run, the Kubernetes OpenAPI schema (strict) accepts the objects, the NetworkPolicies
the stack declares admit the pods' labels, the policy pack finds nothing, and the Prometheus URL
the canary controller is given is the one the Monitoring component's chart release serves.
"""

from __future__ import annotations

import copy
import shlex
from pathlib import Path

import kubernetes_validate
import pytest

from ml.cli import _parser
from ml.tasks import TASKS
from policies.runner import evaluate, format_verdicts
from stacks.config import ConfigError, parse_settings
from stacks.plan import capture, stack_config
from tests.components.test_schema import K8S_VERSION
from tests.conftest import ints, of_type, one

ROOT = Path(__file__).resolve().parents[2]
CT = {"trainingSchedule": "0 3 * * *", "driftCheckSchedule": "*/30 * * * *", "canaryBakeMinutes": 20,
      "trainingDataUri": "runs:/abc/recent.csv"}
CRONJOB = "kubernetes:batch/v1:CronJob"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


@pytest.fixture(scope="module")
def ct() -> list[dict]:
    return capture("dev", CT)


def _matches(selector: dict, labels: dict) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr["operator"], expr["key"], expr.get("values") or []
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) \
                or (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def _pod(cron: dict) -> dict:
    return cron["inputs"]["spec"]["jobTemplate"]["spec"]["template"]


def test_the_schedules_become_forbid_cronjobs_with_bounded_history_and_deadlines(ct):
    crons = {r["name"]: r["inputs"] for r in of_type(ct, CRONJOB)}
    assert set(crons) == {"serving-retrain", "serving-retrain-drift"}
    assert crons["serving-retrain"]["spec"]["schedule"] == "0 3 * * *"
    assert crons["serving-retrain-drift"]["spec"]["schedule"] == "*/30 * * * *"
    for spec in (c["spec"] for c in crons.values()):
        assert spec["concurrencyPolicy"] == "Forbid"
        assert 1 <= spec["successfulJobsHistoryLimit"] <= 5 and 1 <= spec["failedJobsHistoryLimit"] <= 5
        assert spec["startingDeadlineSeconds"] > 0
        job = spec["jobTemplate"]["spec"]
        # The deadline covers training and the whole canary bake (20 minutes).
        assert job["activeDeadlineSeconds"] > 20 * 60 and job["backoffLimit"] <= 1
        assert job["template"]["spec"]["restartPolicy"] == "Never"


def test_no_schedule_no_cronjob_and_no_canary(dev):
    assert not of_type(dev, CRONJOB)
    assert [r["name"] for r in of_type(dev, DEPLOYMENT) if "canary" in r["name"]] == []


def test_the_cli_accepts_what_the_cronjobs_run(ct):
    dockerfile = (ROOT / "ml" / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["python", "-m", "ml"]' in dockerfile
    for cron in of_type(ct, CRONJOB):
        container = _pod(cron)["spec"]["containers"][0]
        args = _parser().parse_args(container["args"])  # the real parser: exits on anything else
        assert args.command == "pipeline" and args.task in TASKS
        assert args.model_name == "demand" and args.data_uri == "runs:/abc/recent.csv"
        assert args.cooldown == 3600.0 and args.bake == 20 * 60
        if cron["name"].endswith("drift"):
            assert args.trigger == "drift" and args.serving_url == "http://serving.mlops.svc.cluster.local"
        else:
            assert args.trigger == "schedule" and args.serving_url is None
        env = {e["name"]: e for e in container["env"]}
        # Lineage: the image the Job runs, and one job key per Job (its retry resumes it).
        assert env["ML_IMAGE_URI"]["value"] == container["image"]
        assert "@sha256:" in container["image"] or ":" in container["image"].rsplit("/", 1)[-1]
        assert env["ML_JOB_KEY"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['job-name']"
        assert env["MLFLOW_TRACKING_URI"]["value"].startswith("http://")
        assert shlex.join(container["args"])  # plain strings, no unresolved outputs


def test_the_canary_queries_are_the_alert_rules_scoped_to_the_canary_pods(ct):
    from components.kubernetes.alerts import Scope, error_ratio_expr, latency_quantile_expr

    args = _parser().parse_args(_pod(one(ct, CRONJOB, "serving-retrain"))["spec"]["containers"][0]["args"])
    config = stack_config("dev", CT)
    rule_scope = Scope("mlops", "serving")
    assert args.error_query == error_ratio_expr(rule_scope).replace(
        'service="serving"', 'service="serving",pod=~"serving-canary-.*"')
    assert args.latency_query == latency_quantile_expr(rule_scope, 0.99).replace(
        'service="serving"', 'service="serving",pod=~"serving-canary-.*"')
    rules = {r["alert"]: r for g in one(ct, "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "monitoring-rules")
             ["inputs"]["spec"]["groups"] for r in g["rules"]}
    assert f"> {float(config.get('errorRate', 0.02))!r}" in rules["ServingErrorRateHigh"]["expr"]
    assert args.max_error_rate == float(config.get("errorRate", 0.02))
    assert args.max_latency_p99 == float(config.get("latencyP99Seconds", 0.25))


def test_the_canary_is_asked_of_the_prometheus_the_monitoring_release_serves(ct):
    args = _parser().parse_args(_pod(one(ct, CRONJOB, "serving-retrain"))["spec"]["containers"][0]["args"])
    release = next(r for r in ct if r["type"] == "kubernetes:helm.sh/v3:Release")
    values = release["inputs"]["values"]
    fullname = values.get("fullnameOverride") or release["inputs"]["name"]
    namespace = release["inputs"]["namespace"]
    assert args.prometheus_url == f"http://{fullname}-prometheus.{namespace}.svc.cluster.local:9090"


def test_the_canary_deployment_serves_the_challenger_behind_the_same_service(ct):
    stable = one(ct, DEPLOYMENT, "serving-deployment")["inputs"]
    canary = one(ct, DEPLOYMENT, "serving-canary")["inputs"]
    service = one(ct, "kubernetes:core/v1:Service", "serving-service")["inputs"]
    env = {e["name"]: e.get("value") for e in canary["spec"]["template"]["spec"]["containers"][0]["env"]}
    stable_env = {e["name"]: e.get("value") for e in stable["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SERVING_MODEL_URI"] == "models:/demand@challenger"
    assert stable_env["SERVING_MODEL_URI"] == "models:/demand@champion"
    assert canary["spec"]["template"]["spec"]["containers"][0]["image"] == stable["spec"]["template"]["spec"]["containers"][0]["image"]
    assert canary["spec"]["replicas"] == 1 and "replicas" not in stable["spec"]
    stable_pod = stable["spec"]["template"]["metadata"]["labels"]
    canary_pod = canary["spec"]["template"]["metadata"]["labels"]
    # The Service splits by replica share: it selects both tracks; each Deployment only its own.
    assert _matches({"matchLabels": service["spec"]["selector"]}, stable_pod)
    assert _matches({"matchLabels": service["spec"]["selector"]}, canary_pod)
    assert _matches(stable["spec"]["selector"], stable_pod) and not _matches(stable["spec"]["selector"], canary_pod)
    assert _matches(canary["spec"]["selector"], canary_pod) and not _matches(canary["spec"]["selector"], stable_pod)
    # The canary pod name prefix is what the controller's pod=~ matcher selects.
    assert canary["metadata"]["name"] == "serving-canary"


def test_the_namespace_policies_admit_the_retraining_pods(ct):
    labels = _pod(one(ct, CRONJOB, "serving-retrain"))["metadata"]["labels"]
    policies = {r["name"]: r["inputs"]["spec"] for r in of_type(ct, POLICY)}
    egress_to_mlflow = policies["network-allow-egress-to-mlflow"]
    assert _matches(egress_to_mlflow["podSelector"], labels)
    mlflow_clients = policies["network-allow-mlflow-clients"]["ingress"][0]["from"]
    assert any(_matches(peer["podSelector"], labels) for peer in mlflow_clients)
    # The endpoint admits them for /drift/status, and they may reach it and Prometheus.
    serving_from = policies["serving-netpol"]["ingress"][0]["from"]
    assert any("namespaceSelector" not in p and _matches(p["podSelector"], labels) for p in serving_from)
    own = policies["serving-retrain-egress"]
    assert _matches(own["podSelector"], labels)
    ports = {p["port"] for rule in own["egress"] for p in rule["ports"]}
    assert {8080, 9090} <= ports
    prometheus_in = policies["monitoring-allow-canary-queries"]["ingress"][0]["from"]
    assert any(_matches(p["podSelector"], labels) for p in prometheus_in)


def test_the_objects_validate_strictly_against_the_kubernetes_schema(ct):
    bodies = [ints(copy.deepcopy(r["inputs"])) for r in ct
              if r["type"] in (CRONJOB, DEPLOYMENT, POLICY) and ("retrain" in r["name"] or "canary" in r["name"])]
    assert {b["kind"] for b in bodies} == {"CronJob", "Deployment", "NetworkPolicy"}
    for body in bodies:
        kubernetes_validate.validate(body, K8S_VERSION, strict=True)
    broken = copy.deepcopy(bodies[0])
    broken["spec"]["concurrencyPolicy"] = "Forbid"
    broken["spec"]["concurencyPolicy"] = "Forbid"  # a misspelled field is caught
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_the_policy_pack_finds_nothing_with_continuous_training_on(ct):
    violations = evaluate(ct, stack_config("dev", CT))
    assert not violations, format_verdicts(violations)


@pytest.mark.parametrize("key", ["trainingSchedule", "driftCheckSchedule"])
@pytest.mark.parametrize("bad", ["0 3 * *", "61 * * * *", "0 3 * * MON-FUNDAY", "*/0 * * * *", "daily"])
def test_a_bad_schedule_is_one_line_naming_the_key(key, bad):
    with pytest.raises(ConfigError) as exc:
        parse_settings({key: bad})
    message = str(exc.value)
    assert "\n" not in message and message.startswith(f"mlops-platform:{key}:")
    assert "5-field cron" in message


@pytest.mark.parametrize("good", ["", "0 3 * * *", "*/15 * * * 1-5", "0 0 1 JAN,JUL *", "@daily", "5 4 * * SUN"])
def test_good_schedules_and_off_are_accepted(good):
    assert parse_settings({"trainingSchedule": good}).training_schedule == good


def test_a_canary_where_no_prometheus_answers_is_refused_naming_the_key():
    with pytest.raises(ConfigError) as exc:
        capture("prod-azure", {"servingRuntime": "kubernetes", "canaryBakeMinutes": 10})
    assert str(exc.value).startswith("mlops-platform:canaryBakeMinutes:") and "\n" not in str(exc.value)


def test_the_retrain_tasks_are_the_ml_tasks():
    from components.inference import RETRAIN_TASKS

    assert set(RETRAIN_TASKS) == set(TASKS)
