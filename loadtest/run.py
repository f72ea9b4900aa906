"""`make loadtest` and `make soak`: locust against the whole stack on this machine, then the summary.

The stack is the one the durability scenarios run (tests/harness/faults.py): a private PostgreSQL and Redis,
an SMTP capture, the API under gunicorn (2 workers), the notifications, reports and payments workers and
beat, each through its real entry point. Tenants are made with the `tasklane` CLI. Locust runs headless
(loadtest/locustfile.py); its HTML report, CSVs and the ledger stay in the output folder; then
`loadtest.summary` checks every task, email and credit the consumers caused.

`--soak` also samples every minute each process's memory (RSS of its process group), the queue depths, the
outbox backlog, the tasks the reconciler had to publish again and locust's error count, and ends with the
memory growth per process after warm-up and a plot (throughput, p99 and memory over time).

    python -m loadtest.run [--users 20] [--spawn-rate 5] [--duration 2m] [--soak] [--out .bench/loadtest]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text

from loadtest import summary
from tasklane.routing import QUEUES
from tests.harness.faults import Installation, installation
from tests.harness.processes import ManagedProcess
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import BIN, PAYSTACK_SECRET, REPO

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
TENANTS = 4
OPENING_CREDITS = 1_000_000
# Reminders are dispatched every 5 s here (every minute by default), so a run of minutes sees them through.
SCHEDULE = {"dispatch-due-reminders": {"every": 5}}


def seconds(duration: str) -> float:
    """Locust's run time (`90`, `90s`, `2m`, `1h30m`) in seconds."""
    total, number = 0.0, ""
    for char in duration.strip():
        if char.isdigit() or char == ".":
            number += char
        else:
            total += float(number) * {"s": 1, "m": 60, "h": 3600}[char]
            number = ""
    return total + (float(number) if number else 0.0)


@dataclass
class Stack:
    setup: Installation
    api: str
    processes: dict[str, ManagedProcess] = field(default_factory=dict)


def start(setup: Installation) -> Stack:
    stack = Stack(setup, setup.start_api())
    stack.processes["api"] = setup.processes[-1]
    for service in ("notifications", "reports", "payments"):
        setup.start_worker(service)
        stack.processes[f"worker-{service}"] = setup.processes[-1]
    stack.processes["beat"] = setup.start_beat(SCHEDULE)
    return stack


def make_tenants(setup: Installation, path: Path) -> list[dict[str, Any]]:
    tenants = []
    for _ in range(TENANTS):
        key, email = setup.tenant(credits=OPENING_CREDITS)
        tenants.append({"email": email, "key": key, "credits": OPENING_CREDITS})
    path.write_text(json.dumps(tenants))
    return tenants


def run_locust(stack: Stack, args: argparse.Namespace, tenants: Path, out: Path) -> int:
    env = {
        **os.environ,
        "LOADTEST_TENANTS": str(tenants),
        "LOADTEST_PAYSTACK_SECRET": PAYSTACK_SECRET,
        "LOADTEST_LEDGER": str(out / "ledger.jsonl"),
    }
    argv = [
        str(BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--host", stack.api,
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", args.duration,
        # Users finish what they started (each follows its task to the end) before the run stops, so the
        # ledger counts every effect whole.
        "--stop-timeout", "240", "--only-summary",
        "--csv", str(out / "locust"), "--csv-full-history", "--html", str(out / "report.html"),
    ]  # fmt: skip
    return subprocess.run(argv, env=env, cwd=REPO, check=False).returncode


def rss_mb(process: ManagedProcess) -> float:
    """Resident memory of a process and everything in its process group (a pool, gunicorn's workers)."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            pgid = int(stat.rsplit(")", 1)[1].split()[2])
            if pgid != process.pid:
                continue
            for line in (proc / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return total / 1024


def locust_errors(out: Path) -> int:
    """Failures so far, from locust's stats history (its last aggregated row)."""
    history = out / "locust_stats_history.csv"
    if not history.exists():
        return 0
    rows = [r for r in csv.DictReader(history.open()) if r["Name"] == "Aggregated"]
    return int(rows[-1]["Total Failure Count"]) if rows else 0


class Sampler:
    """Every ``every`` seconds: memory per process, queue depths, outbox and reconciler, errors."""

    def __init__(self, stack: Stack, out: Path, every: float) -> None:
        self.stack, self.out, self.every = stack, out, every
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._redis = redis.Redis.from_url(stack.setup.env["TASKLANE_BROKER_URL"])
        self._db = create_engine(stack.setup.database_url)

    def __enter__(self) -> Sampler:
        self.started = time.time()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._redis.close()
        self._db.dispose()

    def _sample(self) -> None:
        with self._db.connect() as connection:
            outbox, recovered = connection.execute(
                text(
                    "SELECT count(*) FILTER (WHERE status = 'queued' AND dispatched_at IS NULL),"
                    " count(*) FILTER (WHERE redeliveries > 0) FROM task_records"
                )
            ).one()
        sample: dict[str, Any] = {"minute": round((time.time() - self.started) / 60, 2)}
        sample |= {f"rss_{name}": round(rss_mb(p), 1) for name, p in self.stack.processes.items()}
        sample |= {f"queue_{q}": self._redis.llen(q) for q in QUEUES}
        sample |= {"outbox": outbox, "reconciled": recovered, "errors": locust_errors(self.out)}
        self.samples.append(sample)
        print("soak:", json.dumps(sample), file=sys.stderr, flush=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()


def soak_report(samples: list[dict[str, Any]], out: Path) -> str:
    """Memory growth per process after warm-up (the first fifth of the run, at least one sample), errors."""
    if len(samples) < 2:
        return "soak: too short for a growth figure (fewer than two samples)"
    with (out / "soak.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(samples[0]))
        writer.writeheader()
        writer.writerows(samples)
    warm = samples[max(1, len(samples) // 5) - 1]
    last = samples[-1]
    lines = [f"memory per process (RSS of its process group), after warm-up at minute {warm['minute']:.0f}:"]
    lines.append(f"{'':28}{'warm MB':>9}{'end MB':>9}{'growth':>9}")
    for key in (k for k in last if k.startswith("rss_")):
        growth = (last[key] - warm[key]) / warm[key] * 100 if warm[key] else 0.0
        lines.append(f"{key[4:]:28}{warm[key]:>9.1f}{last[key]:>9.1f}{growth:>8.1f}%")
    deepest = {k[6:]: max(s[k] for s in samples) for k in last if k.startswith("queue_")}
    lines.append(f"deepest queues: {deepest}; largest outbox {max(s['outbox'] for s in samples)}")
    lines.append(
        f"tasks the reconciler published again: {last['reconciled']}; locust errors: {last['errors']}"
    )
    plot(samples, out)
    lines.append(f"plot: {out / 'soak.png'}")
    return "\n".join(lines)


def plot(samples: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Locust's full history has a row per entry per second. Its "Aggregated" rows mix HTTP requests with the
    # task entries (accepted -> end, seconds for a scheduled reminder), so the plot adds them up itself:
    # HTTP requests/s and tasks/s, and the p99 of the slowest endpoint in locust's window, leaving out the
    # long-poll (`?wait=` answers when the task ends). Percentiles are N/A before an entry's first answer.
    http_rps: dict[int, float] = defaultdict(float)
    task_rps: dict[int, float] = defaultdict(float)
    worst_p99: dict[int, float] = defaultdict(float)
    for row in csv.DictReader((out / "locust_stats_history.csv").open()):
        if row["Name"] == "Aggregated":
            continue
        second = int(row["Timestamp"])
        (task_rps if row["Type"] == "task" else http_rps)[second] += float(row["Requests/s"])
        if row["Type"] != "task" and "?wait" not in row["Name"] and row["99%"] not in ("", "N/A"):
            worst_p99[second] = max(worst_p99[second], float(row["99%"]))
    seconds = sorted(set(http_rps) | set(task_rps))
    start = seconds[0] if seconds else 0
    minutes = [(second - start) / 60 for second in seconds]
    figure, (load, latency, memory) = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    load.plot(minutes, [http_rps[second] for second in seconds], linewidth=0.8, label="HTTP requests/s")
    load.plot(minutes, [task_rps[second] for second in seconds], linewidth=0.8, label="tasks ended/s")
    load.set_ylabel("per second")
    load.legend(fontsize="small")
    latency.plot(minutes, [worst_p99.get(second, 0.0) for second in seconds], linewidth=0.8, color="tab:red")
    latency.set_ylabel("HTTP p99 ms, slowest endpoint")
    for key in (k for k in samples[0] if k.startswith("rss_")):
        memory.plot([s["minute"] for s in samples], [s[key] for s in samples], marker=".", label=key[4:])
    memory.set_ylabel("RSS MB")
    memory.set_xlabel("minutes")
    memory.legend(fontsize="small", ncol=3)
    figure.suptitle("Tasklane soak: throughput, p99 and memory over time")
    figure.tight_layout()
    figure.savefig(out / "soak.png", dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", default="2m", help="locust's run time: 90s, 2m, 1h")
    parser.add_argument("--soak", action="store_true", help="sample every minute; memory growth and a plot")
    parser.add_argument("--sample-every", type=float, default=60, help="seconds between soak samples")
    parser.add_argument("--out", type=Path, default=None, help="default: .bench/loadtest or .bench/soak")
    args = parser.parse_args()
    out = (args.out or REPO / ".bench" / ("soak" if args.soak else "loadtest")).resolve()
    out.mkdir(parents=True, exist_ok=True)
    smtp = SmtpServer()
    smtp.start()
    try:
        # The tests' settings (tests/harness/stack.py): short time limits and backoffs, and no email rate
        # limit, as the SMTP capture is no relay to protect.
        with installation(smtp) as setup:
            stack = start(setup)
            tenants = make_tenants(setup, out / "tenants.json")
            print(f"stack up: API {stack.api}; {len(tenants)} tenants; locust: {args.users} users, "
                  f"{args.duration}; output in {out}", file=sys.stderr, flush=True)  # fmt: skip
            if args.soak:
                with Sampler(stack, out, args.sample_every) as sampler:
                    code = run_locust(stack, args, out / "tenants.json", out)
            else:
                code = run_locust(stack, args, out / "tenants.json", out)
            if code not in (0, 1):  # 1: some requests failed, which the summary reports
                raise SystemExit(f"locust exited {code}")
            ledger = summary.read_ledger((out / "ledger.jsonl").read_text())
            verdict = summary.verify(ledger, stack.api, tenants, smtp.received)
            print()
            print(summary.report(ledger, verdict))
            if args.soak:
                print()
                print(soak_report(sampler.samples, out))
            print(f"\nlocust's HTML report and CSVs: {out}")
    finally:
        smtp.stop()
    sys.exit(0 if verdict.ok else 1)


if __name__ == "__main__":
    main()
