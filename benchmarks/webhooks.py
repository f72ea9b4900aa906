"""`make bench-webhooks`: the Paystack webhook under gunicorn + uvicorn workers with real PostgreSQL and
Redis, beside the same webhook traced (10% sampled, as the chart sets it, and every request), with all its
telemetry on (that tracing, metrics, JSON logs), and a bare FastAPI endpoint under the same server settings,
in one run. The OTLP endpoint is a local collector that drops what it takes.

Two measurements for each, one server at a time so they never share the CPU:
- latency at a fixed 200 requests/s from an open-loop generator in its own process (`benchmarks.loadgen`);
- saturation throughput from `wrk` (one thread, 32 connections).
Every webhook is a distinct, correctly signed `charge.success` for a real pending purchase, so each takes
the provider's whole answer path: cap the body, verify the signature, parse, and store the event in one
INSERT. No payments worker runs, so the figures are the API's alone (the relay publishes later).
"""

from __future__ import annotations

import argparse
import tempfile
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.loadgen import request_line
from benchmarks.servers import (
    DURATION,
    RATE,
    ROUNDS,
    WARMUP,
    WRK_SECONDS,
    fixed_rate,
    print_rounds,
    saturation,
    serve,
)
from benchmarks.services import bench_services
from tasklane.db.engine import Database
from tasklane.db.models import Business, CreditPurchase
from tests.harness import paystack
from tests.harness.http_sink import HttpSink
from tests.harness.stack import settings_from_env, tasklane_env

WRK_CEILING = 6000  # webhooks/s beyond any seen here: bodies reserved per wrk second keep every event new


def seed(database: Database, count: int, out: Path) -> None:
    """``count`` pending purchases and a file of their signed ``charge.success`` events."""
    business_id = uuid.uuid4()
    references = [f"TL-BENCH-{i:07d}" for i in range(count)]
    with database.transaction() as session:
        session.execute(
            insert(Business), [{"id": business_id, "name": "Bench", "owner_email": "bench@bench.test"}]
        )
        session.execute(
            insert(CreditPurchase),
            [
                {"business_id": business_id, "reference": r, "provider": "paystack", "credits": Decimal(10),
                 "amount_minor": 20000, "currency": "NGN"}
                for r in references
            ],
        )  # fmt: skip
    with out.open("w") as lines:
        for i, reference in enumerate(references):
            body = paystack.charge_success(reference, 20000, transaction_id=10**8 + i)
            lines.write(request_line({"X-Paystack-Signature": paystack.sign(body)}, body.decode()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    # A collector that takes each export and drops it (decoding here would take the CPU being measured).
    exports = Counter[str]()

    def take(path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        exports[path] += 1
        return 200, b"", "application/x-protobuf"

    collector = HttpSink(take).start()
    # Tracing as the chart sets it (10% of traces sampled, exported over OTLP/HTTP), every request traced,
    # and everything an SRE turns on: that tracing, request and webhook metrics counted in gunicorn's
    # multiprocess mode, JSON logs.
    tracing = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    }
    everything = {**tracing, "TASKLANE_METRICS_PORT": "0", "TASKLANE_LOG_FORMAT": "json"}  # port: serve()
    endpoints: dict[str, tuple[str | None, str, dict[str, str]]] = {
        "webhook": (None, "/v1/webhooks/paystack", {}),
        "tracing": (None, "/v1/webhooks/paystack", tracing),
        "tracing-all": (None, "/v1/webhooks/paystack", {**tracing, "OTEL_TRACES_SAMPLER_ARG": "1"}),
        "telemetry": (None, "/v1/webhooks/paystack", everything),
        "bare": ("benchmarks.bare_app:app", "/bare", {}),
    }
    stores = [name for name, (app, _, _) in endpoints.items() if app is None]
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
    with bench_services() as (services, _), tempfile.TemporaryDirectory() as scratch:
        env = tasklane_env(services, TASKLANE_LOG_LEVEL="WARNING")
        settings = settings_from_env(env)
        bodies = Path(scratch) / "events.tsv"
        per_round = int(RATE * DURATION) + WARMUP + WRK_CEILING * WRK_SECONDS
        database = Database(settings)
        seed(database, per_round * ROUNDS * len(stores), bodies)
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as a live database would be, not mid-autovacuum
        servers = {name: serve({**env, **extra}, app) for name, (app, _, extra) in endpoints.items()}
        try:
            # Every server stays up; only the one being measured gets traffic, so they never share the CPU,
            # and alternating them round by round spreads the machine's own noise over all alike.
            # Only the webhook servers store events, so only their runs need bodies never sent before.
            unsent = 0
            for _ in range(ROUNDS):
                for name, (_, path, _) in endpoints.items():
                    url = servers[name][1] + path
                    skip = unsent if name in stores else 0
                    latency = fixed_rate(url, bodies, skip)
                    throughput = saturation(url, bodies, skip + WARMUP + latency["requests"])
                    if name in stores:
                        unsent += per_round
                    rounds[name].append({**latency, "throughput": throughput})
        finally:
            for server, _ in servers.values():
                server.stop()
            collector.stop()

    _print(rounds, exports["/v1/traces"])


def _print(rounds: dict[str, list[dict[str, Any]]], trace_exports: int) -> None:
    labels = {
        "webhook": "POST /v1/webhooks/paystack",
        "tracing": "  + tracing (10% sampled, the chart's)",
        "tracing-all": "  + tracing (every request)",
        "telemetry": "  + tracing 10%, metrics, JSON logs",
        "bare": "bare FastAPI endpoint",
    }
    ratios = [
        ("webhook", "bare"),
        ("tracing", "webhook"),
        ("tracing-all", "webhook"),
        ("telemetry", "webhook"),
    ]
    print_rounds("webhooks under gunicorn, 2 uvicorn workers, PostgreSQL + Redis", rounds, labels, ratios)
    print(f"trace exports the collector took: {trace_exports}")
    print(
        "\ntargets: webhook p99 under 50 ms at 200 req/s; throughput at least half the bare endpoint's; "
        "tracing costs under 15% of the webhook's throughput (tracing / webhook above 0.85)"
    )


if __name__ == "__main__":
    main()
