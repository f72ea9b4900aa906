"""`make bench-accept`: the accept path, `POST /v1/reports/sales` (authenticate the key, validate the
request, commit the task record, publish the message, answer `202`), beside a bare FastAPI endpoint under
the same gunicorn settings (2 uvicorn workers), in one run, with real PostgreSQL and Redis.

As `make bench-webhooks` measures them: latency at a fixed 200 requests/s from an open-loop generator in
its own process, and saturation throughput from `wrk`, one server at a time, rounds alternating. No reports
worker runs, so the figures are the API's alone (the queue just grows).
"""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.loadgen import request_line
from benchmarks.servers import ROUNDS, WARMUP, fixed_rate, print_rounds, saturation, serve
from benchmarks.services import bench_services
from tasklane.db.engine import Database
from tests.harness.stack import settings_from_env, tasklane_env
from tools.demo_data import DemoSpec, generate

REQUESTS = 50_000  # lines in the requests file: wrk cycles through them


def main() -> None:
    endpoints = {"accept": (None, "/v1/reports/sales"), "bare": ("benchmarks.bare_app:app", "/bare")}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
    with bench_services() as (services, _), tempfile.TemporaryDirectory() as scratch:
        env = tasklane_env(services, TASKLANE_LOG_LEVEL="WARNING")
        database = Database(settings_from_env(env))
        shop = generate(database, DemoSpec(products=20, customers=20, sales=100, users=1, days=30, seed=5))[0]
        database.engine.dispose()
        end = date.today()
        body = json.dumps(
            {"start_date": str(end - timedelta(days=30)), "end_date": str(end), "format": "csv"}
        )
        requests = Path(scratch) / "requests.tsv"
        line = request_line({"Authorization": f"Bearer {shop.api_key}"}, body)
        requests.write_text(line * REQUESTS)
        servers = {name: serve(env, app) for name, (app, _) in endpoints.items()}
        try:
            for _ in range(ROUNDS):
                for name, (_, path) in endpoints.items():
                    url = servers[name][1] + path
                    latency = fixed_rate(url, requests, 0)
                    throughput = saturation(url, requests, WARMUP + latency["requests"])
                    rounds[name].append({**latency, "throughput": throughput})
        finally:
            for server, _ in servers.values():
                server.stop()

    labels = {"accept": "POST /v1/reports/sales (202)", "bare": "bare FastAPI endpoint"}
    print_rounds("the accept path under gunicorn, 2 uvicorn workers, PostgreSQL + Redis", rounds, labels,
                 [("accept", "bare")])  # fmt: skip
    print("\ntargets: accept path at least 0.4x the bare endpoint's throughput; p99 under 25 ms at 200 req/s")


if __name__ == "__main__":
    main()
