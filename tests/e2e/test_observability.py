"""Observability with real processes: the API under gunicorn (two workers), the reports and notifications
workers and beat, exporting traces to an OTLP/HTTP receiver, errors and check-ins to a stand-in for Sentry's
ingest, and metrics on their own ports. Only the receivers stand in for what cannot run here (a collector,
Sentry); everything they receive is what the SDKs really send."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from tasklane.celery_app import create_celery_app
from tasklane.contracts.notifications import (
    SEND_CREDIT_PURCHASE_NOTIFICATION,
    SEND_LOW_STOCK_ALERT,
    SEND_WELCOME_EMAIL,
    SendLowStockAlert,
    SendWelcomeEmail,
)
from tasklane.db.engine import Database
from tasklane.db.migrate import upgrade
from tasklane.db.models import TaskStatus
from tests.conftest import Tenant, make_tenant
from tests.harness import paystack
from tests.harness.beat import start_beat
from tests.harness.otlp_receiver import OtlpReceiver, Span
from tests.harness.ports import free_port, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.seed import add_product
from tests.harness.sentry_server import SentryServer
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import (
    PAYSTACK_SECRET,
    SIGNING_SECRET,
    Services,
    fresh_broker_url,
    settings_from_env,
    start_api_server,
    start_worker,
    tasklane_env,
)
from tests.harness.tasks import publish_bare, wait_until_finished

SMTP_PASSWORD = "smtp-password-that-must-never-leave"


@dataclass
class Observed:
    env: dict[str, str]
    database: Database
    tenant: Tenant
    traces: OtlpReceiver
    sentry: SentryServer
    api: ManagedProcess
    base_url: str
    metrics: dict[str, int]  # process -> metrics port
    workers: dict[str, ManagedProcess]


@pytest.fixture(scope="module")
def observed(services: Services) -> Iterator[Observed]:
    traces, sentry = OtlpReceiver().start(), SentryServer().start()
    database_url = services.postgres.create_database(f"observed_{uuid.uuid4().hex[:8]}")
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_DATABASE_URL=database_url,
        TASKLANE_LOG_FORMAT="json",
        TASKLANE_SENTRY_DSN=sentry.dsn,
        TASKLANE_SMTP_PASSWORD=SMTP_PASSWORD,
        OTEL_EXPORTER_OTLP_ENDPOINT=traces.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",  # export within a tenth of a second, not five
    )
    settings = settings_from_env(env)
    upgrade(settings)
    database = Database(settings)
    ports = {name: free_port() for name in ("api", "reports", "notifications", "payments")}
    workers: dict[str, ManagedProcess] = {}
    api = None
    try:
        for name in ("reports", "notifications", "payments"):
            workers[name] = start_worker(
                {**env, "TASKLANE_METRICS_PORT": str(ports[name])}, name, name=f"observed-{name}"
            )
        api, base_url = start_api_server({**env, "TASKLANE_METRICS_PORT": str(ports["api"])}, workers=2)
        yield Observed(env, database, make_tenant(database), traces, sentry, api, base_url, ports, workers)
    finally:
        for process in [*workers.values(), *([api] if api else [])]:
            process.stop()
        database.engine.dispose()
        traces.stop()
        sentry.stop()


def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample on a process's /metrics, by name and labels."""
    page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(page)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], metric: str, /, **labels: str
) -> float:
    """The sum of ``metric``'s samples whose labels include ``labels`` (0 when there are none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == metric and wanted <= ls)


def one(spans: list[Span], **match: str) -> Span:
    found = [s for s in spans if all(getattr(s, k) == v for k, v in match.items())]
    assert len(found) == 1, f"expected one span with {match}, found {found} in {spans}"
    return found[0]


def test_one_report_request_is_one_trace_from_the_request_to_its_email_even_across_a_retry(
    observed: Observed, smtp: SmtpServer
) -> None:
    smtp.reply_next("451 4.3.0 try again later")  # the report-ready email fails once, then is retried
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    accepted = httpx.post(
        f"{observed.base_url}/v1/reports/sales",
        json={
            "start_date": str(yesterday),
            "end_date": str(yesterday),
            "format": "csv",
            "notify_email": True,
        },
        headers=observed.tenant.headers,
    ).json()
    report = wait_until_finished(observed.database, accepted["task_id"])
    email = wait_until_finished(observed.database, accepted["notify_task_id"])
    assert (report.status, email.status, email.attempts) == (TaskStatus.COMPLETED, TaskStatus.COMPLETED, 2)

    status = httpx.get(accepted["status_url"], headers=observed.tenant.headers).json()
    trace_id = status["trace_id"]
    assert trace_id and len(trace_id) == 32
    spans = wait_for(
        lambda: (
            (found := observed.traces.trace(trace_id))
            and len([s for s in found if s.name == "smtp send"]) == 2
            and found
        ),
        timeout=30,
        what="both attempts of the email in the trace",
    )

    server = one(spans, kind="SERVER", service="tasklane-api")
    assert server.attributes["http.route"] == "/v1/reports/sales"
    publish = one(spans, name="apply_async/reports.generate_sales_report")
    assert (publish.service, publish.kind) == ("tasklane-api", "PRODUCER")
    run = one(spans, name="run/reports.generate_sales_report")
    assert (run.service, run.kind, run.parent_id) == ("tasklane-worker-reports", "CONSUMER", publish.span_id)
    sql = [
        s
        for s in spans
        if s.service == "tasklane-worker-reports" and s.attributes.get("db.system") == "postgresql"
    ]
    assert len(sql) >= 3, "the report's SQL is in the trace"
    assert {"report.build", "report.write", "report.store"} <= {s.name for s in spans}
    email_runs = [s for s in spans if s.name == "run/notifications.send_report_ready"]
    assert {s.service for s in email_runs} == {"tasklane-worker-notifications"}
    smtp_spans = [s for s in spans if s.name == "smtp send"]
    assert len(smtp_spans) == 2 and all(s.kind == "CLIENT" for s in smtp_spans)
    # One tree: a single root (the request), every other span's parent in the same trace.
    ids = {s.span_id for s in spans}
    assert [s for s in spans if not s.parent_id] == [server]
    assert all(s.parent_id in ids for s in spans if s is not server)
    resources = {s.service: s.attributes for s in spans}
    for service, attributes in resources.items():
        assert attributes["resource.service.version"], service
        assert attributes["resource.deployment.environment"] == "production", service

    # The worker's JSON log lines for the run carry the same trace, the task and the tenant.
    run_lines = [
        line
        for line in (
            json.loads(raw) for raw in observed.workers["reports"].log().splitlines() if raw.startswith("{")
        )
        if line.get("task_id") == accepted["task_id"]
    ]
    assert run_lines, "the reports worker logged the run"
    assert {(line["trace_id"], line["task_name"]) for line in run_lines} == {
        (trace_id, "reports.generate_sales_report")
    }
    assert {line["tenant_id"] for line in run_lines} == {str(observed.tenant.id)}, run_lines

    # The API's JSON log line for the request carries the trace the receiver saw.
    lines = [json.loads(line) for line in observed.api.log().splitlines() if line.startswith("{")]
    queued = [line for line in lines if line.get("message", "").endswith(f"as task {accepted['task_id']}")]
    assert queued, "the API logged the queued report"
    assert {line["trace_id"] for line in queued} == {trace_id}, queued
    assert queued[0]["tenant_id"] == str(observed.tenant.id)


def test_a_payment_webhook_is_one_trace_through_the_relay_the_crediting_and_the_receipt(
    observed: Observed, smtp: SmtpServer
) -> None:
    purchase = httpx.post(
        f"{observed.base_url}/v1/credit-purchases",
        json={"credits": 10, "currency": "NGN"},
        headers=observed.tenant.headers,
    ).json()
    body = paystack.charge_success(purchase["reference"], purchase["amount"])
    delivered = httpx.post(
        f"{observed.base_url}/v1/webhooks/paystack", content=body, headers=paystack.headers(body)
    )
    assert delivered.json() == {"status": "queued"}
    server = observed.traces.wait_for_span(
        lambda s: (
            s.kind == "SERVER"
            and s.attributes.get("http.route") == "/v1/webhooks/paystack"
            and s.attributes.get("http.status_code", s.attributes.get("http.response.status_code")) == 200
        ),
        what="the webhook's server span",
    )
    names = {
        "run/payments.process_payment_webhook",
        f"run/{SEND_CREDIT_PURCHASE_NOTIFICATION.name}",
        "smtp send",
    }

    def whole() -> list[Span]:
        found = observed.traces.trace(server.trace_id)
        return found if names <= {s.name for s in found} else []

    spans = wait_for(whole, timeout=60, what="the payment and its receipt in the webhook's trace")

    # The relay publishes in the webhook's trace; the crediting runs under that publish, the receipt
    # email under the crediting, and its send under the email's run.
    publish = one(spans, name="apply_async/payments.process_payment_webhook")
    assert (publish.service, publish.parent_id) == ("tasklane-worker-payments", server.span_id)
    crediting = one(spans, name="run/payments.process_payment_webhook")
    assert crediting.parent_id == publish.span_id
    receipt = one(spans, name=f"run/{SEND_CREDIT_PURCHASE_NOTIFICATION.name}")
    assert receipt.service == "tasklane-worker-notifications"
    send = one(spans, name="smtp send")
    assert send.parent_id == receipt.span_id
    ids = {s.span_id for s in spans}
    assert [s for s in spans if not s.parent_id] == [server], "one tree, rooted at the delivery"
    assert all(s.parent_id in ids for s in spans if s is not server)
    # The batches that joined many deliveries link to this one: the group commit and the relay's sweep.
    for batch in ("webhook.store_batch", "payments.relay"):
        observed.traces.wait_for_span(
            lambda s, batch=batch: s.name == batch and server.trace_id in s.links, what=f"{batch} linked"
        )
    # FastAPI's own request telemetry never sees a delivery (the route starts its span itself), nor the
    # probes the harness polled while gunicorn started; it does see the other routes.
    assert server.scope == "tasklane"
    with observed.traces.lock:
        by_fastapi = {s.name for s in observed.traces.spans if s.scope == "fastapi"}
    assert "POST /v1/credit-purchases" in by_fastapi
    assert not {n for n in by_fastapi if "/webhooks/" in n or "/healthz" in n or "/readyz" in n}, by_fastapi


def test_metrics_count_exactly_the_workload(observed: Observed, smtp: SmtpServer) -> None:
    api_before = scrape(observed.metrics["api"])
    worker_before = scrape(observed.metrics["notifications"])

    for _ in range(5):
        assert (
            httpx.get(f"{observed.base_url}/v1/credits", headers=observed.tenant.headers).status_code == 200
        )
    for _ in range(3):
        missing = httpx.get(f"{observed.base_url}/v1/tasks/{uuid.uuid4()}", headers=observed.tenant.headers)
        assert missing.status_code == 404
    for _ in range(2):
        unsigned = httpx.post(f"{observed.base_url}/v1/webhooks/paystack", content=b"{}")
        assert unsigned.status_code == 401
    created = [
        httpx.post(
            f"{observed.base_url}/v1/users",
            json={"email": f"m{n}-{uuid.uuid4().hex[:6]}@example.com", "name": f"M{n}"},
            headers=observed.tenant.headers,
        ).json()["welcome_email_task_id"]
        for n in range(4)
    ]
    app = create_celery_app(settings_from_env(observed.env))
    try:
        failing = [
            publish_bare(app, SEND_WELCOME_EMAIL, SendWelcomeEmail(user_id=uuid.uuid4())) for _ in range(3)
        ]
    finally:
        app.close()
    records = [wait_until_finished(observed.database, task_id) for task_id in [*created, *failing]]
    assert [r.status for r in records] == [TaskStatus.COMPLETED] * 4 + [TaskStatus.FAILED] * 3

    def worker_settled() -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        now = scrape(observed.metrics["notifications"])
        done = value(now, "celery_task_runtime_count", name=SEND_WELCOME_EMAIL.name)
        return (
            now
            if done - value(worker_before, "celery_task_runtime_count", name=SEND_WELCOME_EMAIL.name) >= 4
            else {}
        )

    worker_after = wait_for(worker_settled, timeout=10, what="the worker's counts")
    api_after = scrape(observed.metrics["api"])

    def api_delta(metric: str, /, **labels: str) -> float:
        return value(api_after, metric, **labels) - value(api_before, metric, **labels)

    def worker_delta(metric: str, /, **labels: str) -> float:
        return value(worker_after, metric, **labels) - value(worker_before, metric, **labels)

    # The API: both gunicorn workers' counts, summed by the master.
    assert api_delta("http_requests_total", handler="/v1/credits", method="GET", status="2xx") == 5
    assert api_delta("http_requests_total", handler="/v1/tasks/{task_id}", method="GET", status="4xx") == 3
    assert api_delta("http_requests_total", handler="/v1/users", method="POST", status="2xx") == 4
    assert api_delta("tasklane_webhook_events_total", provider="paystack", outcome="rejected") == 2
    assert api_delta("celery_task_sent_total", name=SEND_WELCOME_EMAIL.name, queue_name="notifications") == 4
    # The worker: its pool processes' counts, summed by its main process, under celery-exporter's names.
    welcome = {"name": SEND_WELCOME_EMAIL.name, "queue_name": "notifications"}
    assert worker_delta("celery_task_received_total", **welcome) == 7
    assert worker_delta("celery_task_started_total", **welcome) == 7
    assert worker_delta("celery_task_succeeded_total", **welcome) == 4
    assert worker_delta("celery_task_failed_total", exception="PermanentTaskError", **welcome) == 3
    assert worker_delta("celery_task_runtime_count", **welcome) == 4
    assert worker_delta("tasklane_emails_sent_total", template="welcome") == 4
    assert value(worker_after, "celery_worker_up") == 1
    assert ("celery_queue_length", frozenset({("queue_name", "notifications")})) in worker_after
    assert value(api_after, "tasklane_readiness_up", check="database") in (0, 1)


def test_an_unexpected_failure_is_one_sentry_event_with_tags_and_no_secrets_and_a_404_is_none(
    observed: Observed, smtp: SmtpServer
) -> None:
    add_product(observed.database, observed.tenant.id, "LOW-1", name="Secret Sauce", stock=0, reorder=5)
    missing = httpx.get(f"{observed.base_url}/v1/tasks/{uuid.uuid4()}", headers=observed.tenant.headers)
    assert missing.status_code == 404
    before = len(observed.sentry.of_type("event"))
    # Schema drift: the table exactly-once email needs is gone. Not an outage, not an expected failure.
    with observed.database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE sent_notifications RENAME TO sent_notifications_away"))
    app = create_celery_app(settings_from_env(observed.env))
    try:
        task_id = publish_bare(app, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=observed.tenant.id))
        record = wait_until_finished(observed.database, task_id)
    finally:
        app.close()
        with observed.database.engine.begin() as connection:
            connection.execute(text("ALTER TABLE sent_notifications_away RENAME TO sent_notifications"))
    assert record.status == TaskStatus.FAILED

    events = wait_for(
        lambda: [e for e in observed.sentry.of_type("event") if task_id in e.raw],
        timeout=15,
        what="the event",
    )
    time.sleep(2)  # a duplicate report would follow within this
    events = [e for e in observed.sentry.of_type("event") if task_id in e.raw]
    assert len(events) == 1, "one event per failure, not per attempt"
    event = events[0].payload
    tags = dict(event["tags"]) if isinstance(event["tags"], list) else event["tags"]
    assert tags["task_id"] == task_id
    assert tags["tenant_id"] == str(observed.tenant.id)
    assert "UndefinedTable" in events[0].raw
    everything = "\n".join(item.raw for item in observed.sentry.items)
    for secret in (SMTP_PASSWORD, PAYSTACK_SECRET, SIGNING_SECRET, observed.tenant.api_key):
        assert secret not in everything
    assert "Secret Sauce" not in everything, "the email's content stays out"
    # The 404 reported nothing; the only new event is the failure's.
    assert len(observed.sentry.of_type("event")) - before == 1


def test_a_task_retried_until_it_gives_up_is_one_event_and_a_task_whose_row_is_gone_is_none(
    observed: Observed, smtp: SmtpServer
) -> None:
    tenant = make_tenant(observed.database)
    add_product(observed.database, tenant.id, "LOW-2", stock=0, reorder=5)
    retries = int(observed.env["TASKLANE_EMAIL_MAX_RETRIES"])
    smtp.reply_next("451 4.3.0 try again later", times=retries + 1)  # every attempt is refused
    app = create_celery_app(settings_from_env(observed.env))
    try:
        refused = publish_bare(app, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))
        gone = publish_bare(app, SEND_WELCOME_EMAIL, SendWelcomeEmail(user_id=uuid.uuid4()))
        records = {task: wait_until_finished(observed.database, task, timeout=90) for task in (refused, gone)}
    finally:
        app.close()
    assert records[refused].status == TaskStatus.FAILED
    assert records[refused].attempts == retries + 1
    assert records[gone].status == TaskStatus.FAILED, "the user it was for does not exist"

    wait_for(
        lambda: [e for e in observed.sentry.of_type("event") if refused in e.raw],
        timeout=15,
        what="the event",
    )
    time.sleep(2)  # an event per attempt, or one for the missing row, would have arrived by now
    events = observed.sentry.of_type("event")
    assert len([e for e in events if refused in e.raw]) == 1, "one event for the chain, not one per retry"
    assert not [e for e in events if gone in e.raw], "an expected failure is not an error"


def test_beats_entries_check_in_with_sentry_crons(observed: Observed) -> None:
    # Sentry Crons monitors nothing shorter than a minute, and an interval entry first runs one interval
    # after beat starts: every minute on the minute is the quickest monitored schedule.
    overrides = {"dispatch-due-reminders": {"cron": "* * * * *"}}
    beat = start_beat(
        {**observed.env, "TASKLANE_BEAT_SCHEDULE_OVERRIDES": json.dumps(overrides)}, name="observed-beat"
    )
    try:
        check_ins = wait_for(
            lambda: (
                {
                    item.payload.get("status")
                    for item in observed.sentry.of_type("check_in")
                    if item.payload.get("monitor_slug") == "dispatch-due-reminders"
                }
                >= {"in_progress", "ok"}
            ),
            timeout=75,
            what="beat's in-progress and the worker's ok check-ins",
        )
    finally:
        beat.stop()
    assert check_ins
