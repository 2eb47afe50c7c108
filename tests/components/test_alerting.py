"""Alertmanager's configuration (components/kubernetes/alerting.py), checked by Alertmanager's
own `amtool check-config`, and the receivers the local target wires from alertEmail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from components.base import ArgsError
from components.kubernetes.alerting import alertmanager_config, email_receivers
from components.kubernetes.monitoring import StackNames, chart_values

ROOT = Path(__file__).resolve().parents[2]
EMAIL = {"kind": "email", "to": "oncall@example.com", "smarthost": "smtp.example.com:587", "from": "alerts@example.com"}
SNS = {"kind": "sns", "topic_arn": "arn:aws:sns:eu-west-1:123456789012:mlops-alerts", "region": "eu-west-1"}


@pytest.fixture(scope="module")
def amtool() -> str:
    proc = subprocess.run([str(ROOT / "scripts/e2e/amtool.sh")], capture_output=True, text=True, timeout=400)
    assert proc.returncode == 0, f"amtool unavailable: {proc.stderr.strip()}"
    return proc.stdout.strip()


def _check(amtool: str, config: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return subprocess.run([amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("receivers", [[], [EMAIL], [SNS], [EMAIL, SNS]], ids=["none", "email", "sns", "both"])
def test_amtool_accepts_the_config(amtool, receivers, tmp_path):
    result = _check(amtool, alertmanager_config(receivers), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_amtool_rejects_a_broken_config(amtool, tmp_path):
    """The oracle is not permissive: a route to a receiver that does not exist fails."""
    config = alertmanager_config([EMAIL])
    config["route"]["receiver"] = "nobody"
    assert _check(amtool, config, tmp_path).returncode != 0


def test_every_alert_reaches_the_receivers_but_the_watchdog(amtool, tmp_path):
    path = tmp_path / "alertmanager.yml"
    path.write_text(yaml.safe_dump(alertmanager_config([EMAIL])))
    def route(labels: str) -> str:
        out = subprocess.run([amtool, "config", "routes", "test", "--config.file", str(path), labels],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()
    assert route("alertname=ServingAwaitingModel") == "platform"
    assert route("alertname=ServingErrorRateHigh") == "platform"
    assert route("alertname=Watchdog") == "null"


@pytest.mark.parametrize("bad, key", [
    ({**EMAIL, "kind": "slack"}, "receivers[0].kind"),
    ({**EMAIL, "to": "not-an-address"}, "receivers[0].to"),
    ({**EMAIL, "smarthost": "smtp.example.com"}, "receivers[0].smarthost"),
    ({**SNS, "topic_arn": "arn:aws:s3:::bucket"}, "receivers[0].topic_arn"),
    ({**SNS, "region": "us-east-1"}, "receivers[0].region"),
])
def test_bad_receivers_get_one_line_naming_the_key(bad, key):
    with pytest.raises(ArgsError) as err:
        alertmanager_config([bad])
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


def test_alert_email_needs_a_relay_and_is_wired_into_the_chart(amtool, tmp_path):
    with pytest.raises(ArgsError, match="^alert_smtp_smarthost"):
        email_receivers("oncall@example.com", "", "")
    assert email_receivers("", "", "") == []
    values = chart_values(StackNames(release="monitoring"), 3, {"app.kubernetes.io/part-of": "x", "team": "y"},
                          email_receivers("oncall@example.com", "relay.example.com:25", ""))
    (platform,) = [r for r in values["alertmanager"]["config"]["receivers"] if r["name"] == "platform"]
    assert platform["email_configs"][0]["to"] == "oncall@example.com"
    assert _check(amtool, values["alertmanager"]["config"], tmp_path).returncode == 0
    # The chart sets app.kubernetes.io/* itself: passing them again duplicates label keys.
    assert values["commonLabels"] == {"team": "y"}
