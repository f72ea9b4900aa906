"""`make bench-webhooks`: the Paystack webhook under gunicorn + uvicorn workers with real PostgreSQL and
Redis, beside a bare FastAPI endpoint under the same server settings, in one run.

Two measurements for each, one server at a time so they never share the CPU:
- latency at a fixed 200 requests/s from an open-loop generator in its own process (`benchmarks.loadgen`);
- saturation throughput from `wrk` (one thread, 32 connections).
Every webhook is a distinct, correctly signed `charge.success` for a real pending purchase, so each takes
the provider's whole answer path: cap the body, verify the signature, parse, and store the event in one
INSERT. No payments worker runs, so the figures are the API's alone (the relay publishes later).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.services import bench_services
from tasklane.db.engine import Database
from tasklane.db.models import Business, CreditPurchase
from tests.harness import paystack
from tests.harness.ports import free_port, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.stack import REPO, settings_from_env, tasklane_env

RATE, DURATION = 200.0, float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 200  # requests before each fixed-rate run, not measured: connections, caches, prepared statements
WRK_SECONDS, WRK_CONNECTIONS = int(DURATION), 32
WRK_CEILING = 3000  # webhooks/s beyond any seen here: bodies reserved per wrk second keep every event new
TASKLANE_API = str(Path(sys.executable).parent / "tasklane-api")


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
            lines.write(f"{paystack.sign(body)}\t{body.decode()}\n")


def serve(env: dict[str, str], app: str | None) -> tuple[ManagedProcess, str]:
    port = free_port()
    server_env = {**env, "TASKLANE_API_BIND": f"127.0.0.1:{port}", "TASKLANE_API_WORKERS": "2"}
    argv = [TASKLANE_API] + ([app] if app else [])
    process = ManagedProcess("bench-api", argv, server_env, cwd=REPO).start()
    import httpx

    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1).status_code == 200,
        timeout=60,
        what="gunicorn",
    )
    return process, f"http://127.0.0.1:{port}"


def fixed_rate(url: str, bodies: Path, skip: int) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadgen", url, str(bodies), "--rate", str(RATE),
         "--duration", str(DURATION), "--skip", str(skip), "--warmup", str(WARMUP)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def saturation(url: str, bodies: Path, skip: int) -> float:
    script = Path(__file__).with_name("webhooks_wrk.lua")
    completed = subprocess.run(
        ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "-s", str(script), url, "--",
         str(bodies), str(skip)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", completed.stdout)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", completed.stdout)
    if match is None or non_2xx:
        raise SystemExit(f"wrk did not run cleanly:\n{completed.stdout}")
    return float(match.group(1))


def _median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args()
    endpoints = {"webhook": (None, "/v1/webhooks/paystack"), "bare": ("benchmarks.bare_app:app", "/bare")}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in endpoints}
    with bench_services() as (services, _), tempfile.TemporaryDirectory() as scratch:
        env = tasklane_env(services, TASKLANE_LOG_LEVEL="WARNING")
        settings = settings_from_env(env)
        bodies = Path(scratch) / "events.tsv"
        per_round = int(RATE * DURATION) + WARMUP + WRK_CEILING * WRK_SECONDS
        database = Database(settings)
        seed(database, per_round * ROUNDS, bodies)
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")  # as a live database would be, not mid-autovacuum
        servers = {name: serve(env, app) for name, (app, _) in endpoints.items()}
        try:
            # Both servers stay up; only the one being measured gets traffic, so they never share the CPU,
            # and alternating them round by round spreads the machine's own noise over both alike.
            # Only the webhook stores events, so only its runs need bodies never sent before.
            unsent = 0
            for _ in range(ROUNDS):
                for name, (_, path) in endpoints.items():
                    url = servers[name][1] + path
                    skip = unsent if name == "webhook" else 0
                    latency = fixed_rate(url, bodies, skip)
                    throughput = saturation(url, bodies, skip + WARMUP + latency["requests"])
                    if name == "webhook":
                        unsent += per_round
                    rounds[name].append({**latency, "throughput": throughput})
        finally:
            for server, _ in servers.values():
                server.stop()

    labels = {"webhook": "POST /v1/webhooks/paystack", "bare": "bare FastAPI endpoint"}
    print("webhooks under gunicorn, 2 uvicorn workers, PostgreSQL + Redis, this machine (2 cores)")
    print(f"{ROUNDS} rounds, alternating the two servers; median over rounds (worst in brackets)")
    print(f"\nfixed rate {RATE:.0f} req/s for {DURATION:.0f} s per round (open loop, separate process), ms:")
    print(f"{'':30}{'p50':>8}{'p99':>16}{'max':>16}{'req/s':>8}{'errors':>8}")
    for name, results in rounds.items():
        p50 = _median([r["p50"] for r in results])
        p99, worst_p99 = _median([r["p99"] for r in results]), max(r["p99"] for r in results)
        top, worst_top = _median([r["max"] for r in results]), max(r["max"] for r in results)
        rate = _median([r["rate"] for r in results])
        errors = sum(r["errors"] for r in results)
        print(
            f"{labels[name]:30}{p50:>8.1f}{p99:>8.1f} [{worst_p99:>5.1f}]{top:>8.1f} [{worst_top:>5.1f}]"
            f"{rate:>8.0f}{errors:>8}"
        )
    print(
        f"\nsaturation (wrk, 1 thread, {WRK_CONNECTIONS} connections, {WRK_SECONDS} s per round), requests/s:"
    )
    for name, results in rounds.items():
        each = ", ".join(f"{r['throughput']:.0f}" for r in results)
        print(f"{labels[name]:30}{_median([r['throughput'] for r in results]):>8.0f}   (rounds: {each})")
    ratios = [
        w["throughput"] / b["throughput"] for w, b in zip(rounds["webhook"], rounds["bare"], strict=True)
    ]
    print(
        f"webhook / bare throughput: {_median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
    )
    print("\ntargets: webhook p99 under 50 ms at 200 req/s; throughput at least half the bare endpoint's")


if __name__ == "__main__":
    main()
