"""On the kubernetes runtime of the AWS stacks, Alertmanager's receiver is the alert topic the
stack creates (by its real name, in its region and account), not nothing."""

from __future__ import annotations

import pytest

from components.kubernetes.alerting import alertmanager_config


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_alertmanager_publishes_to_the_stacks_alert_topic(capture, stack):
    resources = capture(stack)
    (topic,) = [r for r in resources if r["type"] == "aws:sns/topic:Topic" and r["name"].endswith("monitoring-alerts")]
    (release,) = [r for r in resources if r["type"] == "kubernetes:helm.sh/v3:Release" and r["name"] == "monitoring-stack"]
    config = release["inputs"]["values"]["alertmanager"]["config"]
    platform = [r for r in config["receivers"] if r["name"] == config["route"]["receiver"]]
    assert len(platform) == 1, config
    (sns,) = platform[0]["sns_configs"]
    arn = sns["topic_arn"].split(":")
    assert arn[3] == sns["sigv4"]["region"] == "eu-west-1"
    assert arn[4] == "111122223333" and arn[5] == topic["inputs"]["name"]
    # The rendered config is what alertmanager_config produces for that receiver.
    assert config == alertmanager_config([{"kind": "sns", "topic_arn": sns["topic_arn"], "region": arn[3]}])
