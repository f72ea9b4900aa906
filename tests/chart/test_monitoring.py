"""What the chart gives an SRE next to the workloads: metrics ports, OpenTelemetry and Sentry settings, a
PodMonitor, alerts with runbooks and a Grafana dashboard. The alerts and the dashboard's queries are checked
with promtool (Debian's prometheus package; `scripts/bootstrap.sh test` installs it): the rules load, each
alert fires on the series it is about and stays quiet on healthy ones, and every metric they name is one
Tasklane's code exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import tasklane.telemetry.metrics  # noqa: F401  (registers the counters and histograms)
from tests.chart.helm import (
    CHART,
    NAMESPACE,
    REPO,
    container,
    find,
    name,
    one,
    render,
    render_cached,
    render_error,
    resolved_env,
)

MONITORING = {
    "monitoring": {
        "podMonitor": {"enabled": True},
        "prometheusRule": {"enabled": True},
        "grafanaDashboard": {"enabled": True},
    }
}
JOB = f"{NAMESPACE}/{name('metrics')}"
DASHBOARD: dict[str, Any] = json.loads((CHART / "dashboards" / "tasklane.json").read_text())
# Metric names that come from libraries rather than Tasklane's own code.
LIBRARY_METRICS = {"up", "http_requests_total", "http_request_duration_seconds"}


def promtool(*args: str, cwd: Path | None = None) -> None:
    """Run promtool; fail with its report unless it succeeds."""
    found = shutil.which("promtool")
    if found is None:
        raise RuntimeError(
            "promtool is not installed; `make setup-test` (scripts/bootstrap.sh test) installs it"
        )
    result = subprocess.run([found, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def rules(values: dict[str, Any] | None = None) -> dict[str, Any]:
    rule = one(render_cached(values or MONITORING), "PrometheusRule", name("alerts"))
    spec: dict[str, Any] = rule["spec"]
    return spec


def alerts() -> list[dict[str, Any]]:
    return [r for group in rules()["groups"] for r in group["rules"] if "alert" in r]


def dashboard_exprs() -> list[str]:
    return [t["expr"] for p in DASHBOARD["panels"] for t in p.get("targets", [])]


def test_every_process_that_serves_metrics_gets_the_port_and_the_podmonitor_selects_it() -> None:
    manifests = render_cached(MONITORING)
    monitor = one(manifests, "PodMonitor", name("metrics"))
    selector = monitor["spec"]["selector"]
    (components,) = selector["matchExpressions"]
    assert monitor["spec"]["podMetricsEndpoints"][0]["port"] == "metrics"
    scraped = [
        d
        for d in find(manifests, "Deployment")
        if d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] in components["values"]
    ]
    # The API, three worker sets and beat: every process that serves /metrics, and nothing else.
    assert len(scraped) == 5
    for deployment in scraped:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert selector["matchLabels"].items() <= labels.items()
        (main,) = deployment["spec"]["template"]["spec"]["containers"]
        assert {"name": "metrics", "containerPort": 9100, "protocol": "TCP"} in main["ports"]
        assert resolved_env(manifests, main)["TASKLANE_METRICS_PORT"] == "9100"


def test_metrics_off_removes_the_port_and_a_podmonitor_without_them_is_refused() -> None:
    manifests = render({"config": {"metrics": {"port": 0}}})
    for deployment in find(manifests, "Deployment"):
        for spec in deployment["spec"]["template"]["spec"]["containers"]:
            assert "metrics" not in {p["name"] for p in spec.get("ports", [])}
            assert "TASKLANE_METRICS_PORT" not in resolved_env(manifests, spec)
    message = render_error({"config": {"metrics": {"port": 0}}, **MONITORING})
    assert "monitoring.podMonitor.enabled needs config.metrics.port" in message
    message = render_error({"monitoring": {"prometheusRule": {"enabled": True}}})
    assert "monitoring.prometheusRule.enabled needs monitoring.podMonitor.enabled" in message


def test_traces_logs_and_sentry_are_configured_for_every_process_with_the_pods_identity() -> None:
    values = {
        "tracing": {
            "otlpEndpoint": "http://collector.observability:4318",
            "resourceAttributes": {"team": "a"},
        },
        "secrets": {"sentryDsn": "https://public@sentry.example.com/7"},
        "config": {"sentry": {"tracesSampleRate": 0.25}},
    }
    manifests = render(values)
    for component in ("api", "worker-reports", "beat"):
        main = find(manifests, "Deployment", name(component))[0]["spec"]["template"]["spec"]["containers"][0]
        env = resolved_env(manifests, main)
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector.observability:4318"
        assert env["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
        attributes = dict(pair.split("=", 1) for pair in env["OTEL_RESOURCE_ATTRIBUTES"].split(","))
        assert attributes == {
            "k8s.pod.name": "tl-tasklane-pod-0",
            "k8s.namespace.name": NAMESPACE,
            "team": "a",
        }
        assert env["TASKLANE_SENTRY_DSN"] == "https://public@sentry.example.com/7"
        assert env["TASKLANE_SENTRY_TRACES_SAMPLE_RATE"] == "0.25"
        assert env["TASKLANE_LOG_FORMAT"] == "json"
    # Without an endpoint nothing turns tracing on.
    default = render_cached()
    api = container(one(default, "Deployment", name("api")), "api")
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in resolved_env(default, api)
    assert "TASKLANE_SENTRY_DSN" not in resolved_env(default, api)


def test_the_alerts_load_in_promtool_and_each_has_a_severity_and_a_runbook_in_the_readme(
    tmp_path: Path,
) -> None:
    file = tmp_path / "rules.yaml"
    file.write_text(yaml.safe_dump(rules()))
    promtool("check", "rules", str(file))
    readme = (REPO / "README.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")
        for heading in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)
    }
    assert len(alerts()) >= 10
    for alert in alerts():
        assert alert["labels"]["severity"] in {"warning", "critical"}, alert["alert"]
        annotations = alert["annotations"]
        assert annotations["summary"] and annotations["description"], alert["alert"]
        anchor = annotations["runbook_url"].rsplit("#", 1)[1]
        assert anchor == f"runbook-{alert['alert'].lower()}"
        assert anchor in anchors, f"README has no section {anchor} for {alert['alert']}"
        assert f'job="{JOB}"' in alert["expr"], f"{alert['alert']} must select this release's scrape job"


# Each alert: the series that must fire it, the labels it then carries (besides severity), series of a
# healthy system it must stay quiet on, and when to evaluate (after its `for`).
SCENARIOS: list[tuple[str, dict[str, str], dict[str, str], dict[str, str], str]] = [
    (
        "TasklaneQueueBacklogGrowing",
        {'celery_queue_length{queue_name="reports"}': "600+10x60"},
        {"queue_name": "reports"},
        {'celery_queue_length{queue_name="reports"}': "600+0x60"},
        "30m",
    ),
    (
        "TasklaneTaskWaitingTooLong",
        {'tasklane_oldest_queued_task_age_seconds{queue="notifications"}': "700+60x20"},
        {"queue": "notifications"},
        {'tasklane_oldest_queued_task_age_seconds{queue="notifications"}': "5+0x20"},
        "10m",
    ),
    (
        "TasklaneWorkerDown",
        {'up{component="worker",pod="w-1"}': "0x20"},
        {"job": JOB, "component": "worker", "pod": "w-1"},
        {'up{component="worker",pod="w-1"}': "1x20"},
        "10m",
    ),
    (
        "TasklaneApiDown",
        {'up{component="api",pod="a-1"}': "0x20"},
        {"job": JOB, "component": "api", "pod": "a-1"},
        {'up{component="api",pod="a-1"}': "1x20"},
        "10m",
    ),
    (
        "TasklaneTaskFailureRatioHigh",
        {
            'celery_task_failed_total{name="reports.generate_sales_report"}': "0+3x60",
            'celery_task_succeeded_total{name="reports.generate_sales_report"}': "0+7x60",
        },
        {"name": "reports.generate_sales_report"},
        {
            'celery_task_failed_total{name="reports.generate_sales_report"}': "0+1x60",
            'celery_task_succeeded_total{name="reports.generate_sales_report"}': "0+99x60",
        },
        "40m",
    ),
    (
        "TasklaneWebhookErrors",
        {
            'http_requests_total{handler="/v1/webhooks/paystack",status="5xx"}': "0+5x30",
            'http_requests_total{handler="/v1/webhooks/paystack",status="2xx"}': "0+20x30",
        },
        {},
        {
            'http_requests_total{handler="/v1/webhooks/paystack",status="5xx"}': "0+0x30",
            'http_requests_total{handler="/v1/webhooks/paystack",status="2xx"}': "0+20x30",
        },
        "20m",
    ),
    (
        "TasklaneOutboxStuck",
        {"tasklane_outbox_oldest_age_seconds": "400+60x20"},
        {},
        {"tasklane_outbox_oldest_age_seconds": "0x20"},
        "10m",
    ),
    (
        "TasklaneBeatNotTicking",
        {'tasklane_beat_entry_overdue_seconds{entry="reconcile-task-records"}': "200+60x20"},
        {"entry": "reconcile-task-records"},
        {'tasklane_beat_entry_overdue_seconds{entry="reconcile-task-records"}': "0x20"},
        "10m",
    ),
    (
        "TasklaneBeatDown",
        {'up{component="beat"}': "0x30"},
        {},
        {'up{component="beat"}': "1x30"},
        "15m",
    ),
    (
        "TasklaneDependencyUnreachable",
        {'tasklane_readiness_up{check="postgresql"}': "0x10"},
        {"check": "postgresql"},
        {'tasklane_readiness_up{check="postgresql"}': "1x10"},
        "5m",
    ),
    (
        "TasklaneTasksLost",
        {'tasklane_reconciler_tasks_total{action="recovered"}': "0+1x60"},
        {},
        {'tasklane_reconciler_tasks_total{action="recovered"}': "0+0x60"},
        "30m",
    ),
    (
        "TasklaneTasksGivenUp",
        {'tasklane_reconciler_tasks_total{action="failed"}': "0+1x60"},
        {},
        {'tasklane_reconciler_tasks_total{action="failed"}': "0+0x60"},
        "30m",
    ),
]


def _series(series: dict[str, str]) -> list[dict[str, str]]:
    """promtool input series, each given this release's scrape job."""
    out = []
    for selector, values in series.items():
        metric, _, labels = selector.partition("{")
        joined = ",".join(x for x in (f'job="{JOB}"', labels.rstrip("}")) if x)
        out.append({"series": f"{metric}{{{joined}}}", "values": values})
    return out


def test_every_alert_fires_on_its_symptom_and_not_on_a_healthy_system(tmp_path: Path) -> None:
    severities = {a["alert"]: a["labels"]["severity"] for a in alerts()}
    assert [alert for alert, *_ in SCENARIOS] == list(severities), "one scenario per alert, in order"
    # Without their annotations: promtool compares those too, and they only restate the values (their
    # templates are checked by `promtool check rules` above).
    bare = rules()
    for group in bare["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(bare))
    tests = []
    for alert, firing, labels, healthy, at in SCENARIOS:
        expected = [{"exp_labels": {**labels, "severity": severities[alert]}}]
        for series, exp_alerts in ((firing, expected), (healthy, [])):
            check = {"eval_time": at, "alertname": alert, "exp_alerts": exp_alerts}
            tests.append({"interval": "1m", "input_series": _series(series), "alert_rule_test": [check]})
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump({"rule_files": ["rules.yaml"], "tests": tests}))
    promtool("test", "rules", "tests.yaml", cwd=tmp_path)


def test_the_dashboard_is_a_grafana_dashboard_whose_queries_parse(tmp_path: Path) -> None:
    manifests = render_cached(MONITORING)
    configmap = one(manifests, "ConfigMap", name("dashboard"))
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["tasklane.json"]) == DASHBOARD

    assert DASHBOARD["uid"] and DASHBOARD["title"] and DASHBOARD["schemaVersion"] >= 36
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["job"]["type"] == "query"
    rows = [p["title"] for p in DASHBOARD["panels"] if p["type"] == "row"]
    assert rows == ["API", "Queues", "Workers and tasks", "Payments", "Reports, email and beat"]
    ids, cells = set(), set()
    for panel in DASHBOARD["panels"]:
        assert panel["id"] not in ids
        ids.add(panel["id"])
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"panel {panel['title']} overlaps another"
                cells.add((x, y))
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}"
            assert panel["targets"], panel["title"]
            for target in panel["targets"]:
                assert 'job=~"$job"' in target["expr"], f"{panel['title']}: {target['expr']}"
                assert target["legendFormat"]
    # promtool parses each query as a recording rule: a typo in PromQL fails here, not in Grafana.
    recorded = [{"record": f"dashboard:query_{i}", "expr": e} for i, e in enumerate(dashboard_exprs())]
    (tmp_path / "queries.yaml").write_text(yaml.safe_dump({"groups": [{"name": "q", "rules": recorded}]}))
    promtool("check", "rules", str(tmp_path / "queries.yaml"))


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_the_alerts_and_dashboard_use_is_one_tasklane_exports(source: str) -> None:
    exprs = [a["expr"] for a in alerts()] if source == "alerts" else dashboard_exprs()
    names = {
        n
        for expr in exprs
        for n in re.findall(r"([a-z_][a-z0-9_]*)\{", expr)
        if n not in {"by", "without", "on", "ignoring"}
    }
    # Counters and histograms every process registers (their samples' names), and the gauges read at scrape
    # time, named where they are built.
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    registered = {f.name + end for f in REGISTRY.collect() for end in suffixes.get(f.type, ("",))}
    code = "\n".join(
        path.read_text() for root in ("libs", "services") for path in (REPO / root).rglob("*.py")
    )
    exported = {
        metric
        for metric in names
        if metric in registered | LIBRARY_METRICS
        or re.sub(r"_(bucket|count|sum)$", "", metric) in LIBRARY_METRICS
        or f'"{metric}"' in code
    }
    assert names - exported == set()
    assert len(names) >= 8
