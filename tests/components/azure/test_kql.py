"""Every KQL query the azure backends deploy (log alerts and workbook panels, both serving
runtimes) compiles under Microsoft's own Kusto semantic analyzer (npm
``@kusto/language-service-next``, pinned in tests/components/azure/kusto/package-lock.json)
against the table schemas Microsoft documents (kusto/tables.json, with their source pages).

The queries are read from the captured plan, i.e. exactly what ``pulumi up`` would send to
Azure Monitor, not from the helper functions alone. Azure validates a scheduled query rule's
query when the rule is created; a query that does not compile there fails ``pulumi up``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from components.azure import monitoring, queries
from tests.conftest import of_type

KUSTO = Path(__file__).parent / "kusto"
STACK = "prod-azure"
VARIANTS = {"azureml": {}, "kubernetes": {"servingRuntime": "kubernetes"}}


@pytest.fixture(scope="module")
def analyzer():
    """``analyze({id: kql}) -> {id: [diagnostic]}`` through kusto/analyze.js."""
    node = shutil.which("node")
    assert node, "the Kusto oracle needs node on PATH (apt-get install nodejs npm)"
    subprocess.run(["bash", str(KUSTO / "install.sh")], check=True, timeout=600)
    tables = {name: t["schema"] for name, t in json.loads((KUSTO / "tables.json").read_text())["tables"].items()}

    def analyze(batch: dict[str, str]) -> dict[str, list[dict[str, str]]]:
        done = subprocess.run(
            [node, str(KUSTO / "analyze.js")], input=json.dumps({"tables": tables, "queries": batch}),
            capture_output=True, text=True, cwd=KUSTO, timeout=300, check=True,
        )
        return json.loads(done.stdout)

    return analyze


def deployed_queries(resources) -> dict[str, str]:
    """Every query in the plan: each log alert's condition and each workbook query panel."""
    found: dict[str, str] = {}
    for rule in of_type(resources, "azure-native:monitor:ScheduledQueryRule"):
        for i, condition in enumerate(rule["inputs"]["criteria"]["allOf"]):
            found[f"alert {rule['name']}[{i}]"] = condition["query"]
    for book in of_type(resources, "azure-native:applicationinsights:Workbook"):
        for item in json.loads(book["inputs"]["serializedData"])["items"]:
            if item["type"] == 3:
                found[f"workbook {book['name']}: {item['name']}"] = item["content"]["query"]
    return found


def errors(report: dict[str, list[dict[str, str]]]) -> list[str]:
    return [
        f"{query_id}: {d['code']} {d['message']} at {d['text']!r}"
        for query_id, diagnostics in report.items() for d in diagnostics if d["severity"] == "Error"
    ]


@pytest.mark.parametrize("runtime", sorted(VARIANTS))
def test_every_deployed_query_compiles_against_the_documented_schemas(capture, analyzer, runtime):
    batch = deployed_queries(capture(STACK, VARIANTS[runtime]))
    # Alerts and the four panels are all there: the test compiles real queries, not an empty set.
    assert len([q for q in batch if q.startswith("alert")]) >= 1
    assert len([q for q in batch if q.startswith("workbook")]) == len(queries.PANELS)
    assert errors(analyzer(batch)) == []


@pytest.mark.parametrize("runtime", ["azureml", "kubernetes"])
def test_query_builders_compile_for_any_endpoint_name(analyzer, runtime):
    endpoint = "serving-3a9f0c"
    batch = {
        "latency p50": queries.latency_quantile(runtime, endpoint, 0.5),
        "latency p99": queries.latency_quantile(runtime, endpoint, 0.99),
        "throughput": queries.throughput(runtime, endpoint),
        "errors": queries.error_ratio(runtime, endpoint),
        "drift": queries.drift_p_value(runtime, endpoint),
    }
    book = json.loads(monitoring.workbook_json(runtime, endpoint, "/ws", {"latency": 0.25, "errors": 0.02, "drift": 0.01}))
    batch.update({f"panel {i['name']}": i["content"]["query"] for i in book["items"] if i["type"] == 3})
    assert errors(analyzer(batch)) == []


def test_the_oracle_rejects_the_faults_users_meet(analyzer):
    """The analyzer and the schemas catch a type error, an unknown column and an unknown table."""
    report = analyzer({
        "string op on int": 'AmlOnlineEndpointTrafficLog | where ResponseCode startswith "5"',
        "unknown column": "AmlOnlineEndpointTrafficLog | where StatusCode >= 500",
        "unknown table": "AmlOnlineEndpointTraffic | count",
        "fine": "AmlOnlineEndpointTrafficLog | where ResponseCode >= 500 | summarize count() by bin(TimeGenerated, 5m)",
    })
    codes = {query_id: {d["code"] for d in found if d["severity"] == "Error"} for query_id, found in report.items()}
    assert codes["string op on int"] == {"KS106"}
    assert codes["unknown column"] and codes["unknown table"]
    assert codes["fine"] == set()
