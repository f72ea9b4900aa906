"""Bad values fail with a message naming the values key: what values.schema.json refuses (wrong types,
unknown keys, missing external services or secrets) fails both `helm template` and `helm lint --strict`; what
the templates refuse with `fail` (rules across keys) fails `helm template`, `helm install` and `helm upgrade`.
(Helm 4's lint renders in a lint mode that logs a template's `fail` instead of failing, so lint cannot.)"""

from __future__ import annotations

from typing import Any

import pytest

from tests.chart.helm import HelmError, lint, render_error

NO_DATABASE: dict[str, Any] = {"postgresql": {"enabled": False}}
EXTERNAL_DATABASE: dict[str, Any] = {
    "postgresql": {"enabled": False},
    "externalDatabase": {"url": "postgresql+psycopg://u:p@db/tasklane"},
}

SCHEMA_CASES = [
    # wrong types
    pytest.param({"api": {"replicas": "two"}}, "/api/replicas", id="api.replicas-string"),
    pytest.param({"config": {"smtp": {"port": 70000}}}, "/config/smtp/port", id="smtp-port-range"),
    pytest.param({"config": {"logLevel": "LOUD"}}, "/config/logLevel", id="log-level-enum"),
    pytest.param({"workers": {"defaults": {"pool": "gevent"}}}, "/workers/defaults/pool", id="pool-enum"),
    pytest.param({"workers": {"defaults": {"concurrency": 0}}}, "/workers/defaults/concurrency", id="zero"),
    pytest.param(
        {"workers": {"defaults": {"autoscaling": {"type": "both"}}}},
        "/workers/defaults/autoscaling/type",
        id="autoscaling-type",
    ),
    pytest.param({"networkPolicies": {"enabled": "yes"}}, "/networkPolicies/enabled", id="bool-string"),
    pytest.param({"config": {"email": {"rateLimit": "fast"}}}, "/config/email/rateLimit", id="rate-limit"),
    pytest.param(
        {"externalRedis": {"url": "http://redis:6379"}}, "/externalRedis/url", id="redis-url-scheme"
    ),
    # unknown keys
    pytest.param({"api": {"replica": 2}}, "'replica' not allowed", id="unknown-api-key"),
    pytest.param({"worker": {}}, "'worker' not allowed", id="unknown-top-level-key"),
    pytest.param(
        {"workers": {"sets": [{"name": "x", "service": "reports", "queues": ["reports"], "queue": "a"}]}},
        "'queue' not allowed",
        id="unknown-set-key",
    ),
    pytest.param(
        {"workers": {"sets": [{"name": "x", "service": "reports", "queues": ["urgent"]}]}},
        "/workers/sets/0/queues/0",
        id="unknown-queue",
    ),
    pytest.param(
        {"workers": {"sets": [{"name": "x", "queues": ["reports"]}]}},
        "/workers/sets/0",
        id="set-without-service",
    ),
    # missing secrets and external services
    pytest.param(NO_DATABASE, "/externalDatabase/url", id="no-database"),
    pytest.param({"redis": {"enabled": False}}, "/externalRedis/url", id="no-redis"),
    pytest.param(
        {"secrets": {"signingSecret": "short"}}, "/secrets/signingSecret", id="short-signing-secret"
    ),
]

TEMPLATE_CASES = [
    pytest.param(
        {"config": {"smtp": {"username": "mailer"}}},
        "secrets.smtpPassword is required when config.smtp.username is set",
        id="smtp-user-without-password",
    ),
    pytest.param(
        {**EXTERNAL_DATABASE, "migrations": {"useHelmHooks": True}, "postgresql": {"enabled": True}},
        "migrations.useHelmHooks",
        id="hooks-with-bundled-postgresql",
    ),
    pytest.param(
        {"api": {"autoscaling": {"enabled": True}, "resources": {"requests": {"cpu": None}}}},
        "api.resources.requests.cpu",
        id="api-hpa-without-cpu-request",
    ),
    pytest.param(
        {"workers": {"defaults": {"terminationGracePeriodSeconds": 10}}},
        "workers.defaults.terminationGracePeriodSeconds (10",
        id="grace-too-short",
    ),
    pytest.param(
        {
            "flower": {"enabled": True},
            "redis": {"enabled": False},
            "externalRedis": {"url": "sentinel://:pw@s-a:26379/0", "sentinelMaster": "tasklane"},
        },
        "flower.enabled: Flower takes its broker from a URL alone",
        id="flower-with-sentinel",
    ),
    pytest.param(
        {"monitoring": {"podMonitor": {"enabled": True}}, "config": {"metrics": {"port": 0}}},
        "monitoring.podMonitor.enabled needs config.metrics.port",
        id="podmonitor-without-metrics",
    ),
]


@pytest.mark.parametrize(("values", "expected"), SCHEMA_CASES)
def test_values_the_schema_refuses_fail_helm_template_and_helm_lint_naming_the_key(
    values: dict[str, Any], expected: str
) -> None:
    assert expected in render_error(values)
    with pytest.raises(HelmError) as refused:
        lint(values)
    assert expected in str(refused.value)


@pytest.mark.parametrize(("values", "expected"), TEMPLATE_CASES)
def test_values_the_templates_refuse_fail_helm_template_naming_the_key(
    values: dict[str, Any], expected: str
) -> None:
    assert expected in render_error(values)


def test_good_values_pass_both() -> None:
    assert "0 chart(s) failed" in lint(EXTERNAL_DATABASE)
