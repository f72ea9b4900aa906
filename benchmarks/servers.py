"""What the HTTP benches share: a server under gunicorn as deployed, its latency at a fixed rate from an
open-loop generator in its own process (`benchmarks.loadgen`), its saturation throughput from `wrk`, and the
table that prints them side by side."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.harness.ports import free_port, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.stack import REPO

RATE, DURATION = 200.0, float(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WARMUP = 200  # requests before each fixed-rate run, not measured: connections, caches, prepared statements
WRK_SECONDS, WRK_CONNECTIONS = int(DURATION), 32
TASKLANE_API = str(Path(sys.executable).parent / "tasklane-api")


def serve(env: dict[str, str], app: str | None) -> tuple[ManagedProcess, str]:
    """``tasklane-api`` (gunicorn, 2 uvicorn workers), serving Tasklane or ``app``; a metrics port of its own
    when the environment asks for metrics."""
    port = free_port()
    server_env = {**env, "TASKLANE_API_BIND": f"127.0.0.1:{port}", "TASKLANE_API_WORKERS": "2"}
    if "TASKLANE_METRICS_PORT" in env:
        server_env["TASKLANE_METRICS_PORT"] = str(free_port())
    process = ManagedProcess(
        "bench-api", [TASKLANE_API, *([app] if app else [])], server_env, cwd=REPO
    ).start()
    wait_for(
        lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200,
        timeout=60,
        what="gunicorn",
    )
    return process, f"http://127.0.0.1:{port}"


def fixed_rate(url: str, requests: Path, skip: int) -> dict[str, Any]:
    """Latency at ``RATE`` requests/s for ``DURATION`` s, the requests file read from line ``skip``."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadgen", url, str(requests), "--rate", str(RATE),
         "--duration", str(DURATION), "--skip", str(skip), "--warmup", str(WARMUP)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{completed.stderr}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def saturation(url: str, requests: Path, skip: int) -> float:
    """Requests/s from wrk (one thread, ``WRK_CONNECTIONS`` connections); any non-2xx answer fails the run."""
    script = Path(__file__).with_name("wrk_requests.lua")
    completed = subprocess.run(
        ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", "-s", str(script), url, "--",
         str(requests), str(skip)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"Requests/sec:\s+([\d.]+)", completed.stdout)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", completed.stdout)
    if match is None or non_2xx:
        raise SystemExit(f"wrk did not run cleanly:\n{completed.stdout}")
    return float(match.group(1))


def print_rounds(
    title: str,
    rounds: dict[str, list[dict[str, Any]]],
    labels: dict[str, str],
    ratios: list[tuple[str, str]],
) -> None:
    """Latency at the fixed rate and saturation throughput per server (medians over rounds, worst in
    brackets), then the throughput ratios ``(name, against)``, each round's too."""
    print(f"{title}, {os.cpu_count()} cores")
    print(f"{ROUNDS} rounds, alternating the servers; median over rounds (worst in brackets)")
    print(f"\nfixed rate {RATE:.0f} req/s for {DURATION:.0f} s per round (open loop, separate process), ms:")
    print(f"{'':38}{'p50':>8}{'p99':>16}{'max':>16}{'req/s':>8}{'errors':>8}")
    for name, results in rounds.items():
        p50 = statistics.median([r["p50"] for r in results])
        p99, worst_p99 = statistics.median([r["p99"] for r in results]), max(r["p99"] for r in results)
        top, worst_top = statistics.median([r["max"] for r in results]), max(r["max"] for r in results)
        rate = statistics.median([r["rate"] for r in results])
        errors = sum(r["errors"] for r in results)
        print(
            f"{labels[name]:38}{p50:>8.1f}{p99:>8.1f} [{worst_p99:>5.1f}]{top:>8.1f} [{worst_top:>5.1f}]"
            f"{rate:>8.0f}{errors:>8}"
        )
    print(
        f"\nsaturation (wrk, 1 thread, {WRK_CONNECTIONS} connections, {WRK_SECONDS} s per round), requests/s:"
    )
    for name, results in rounds.items():
        each = ", ".join(f"{r['throughput']:.0f}" for r in results)
        throughput = statistics.median([r["throughput"] for r in results])
        print(f"{labels[name]:38}{throughput:>8.0f}   (rounds: {each})")
    for name, against in ratios:
        each = [a["throughput"] / b["throughput"] for a, b in zip(rounds[name], rounds[against], strict=True)]
        print(
            f"{name} / {against} throughput: {statistics.median(each):.2f} "
            f"(rounds: {', '.join(f'{r:.2f}' for r in each)})"
        )
