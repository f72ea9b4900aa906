"""`make bench-reports`: the sales report for 1,000,000 transactions in each format, beside PostgreSQL's own
`COPY ... TO STDOUT WITH CSV` of the same rows, on the same database in one run.

Each measurement runs in its own process, so its peak RSS is its own. The reports go through the worker's
real path (`ReportJob.run`: queries, streaming writer, progress updates, storing the file in the
database); COPY only writes the transaction rows to a file, so the ratio flatters COPY a little.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from benchmarks.services import bench_services
from tasklane.db.engine import Database
from tasklane.settings import Settings
from tools.demo_data import DemoSpec, generate

FORMATS = ("csv", "xlsx", "pdf")


def copy_rows(settings: Settings, business_id: uuid.UUID, start: date, end: date, out: Path) -> int:
    """The ceiling: the same transaction rows as the report's Transactions table, by COPY."""
    query = f"""
        COPY (
            SELECT tx.reference, tx.occurred_at, c.name, tx.payment_method, tx.total_amount
            FROM sales_transactions tx LEFT JOIN customers c ON c.id = tx.customer_id
            WHERE tx.business_id = '{business_id}'
              AND tx.occurred_at >= '{start}' AND tx.occurred_at < '{end + timedelta(days=1)}'
            ORDER BY tx.occurred_at, tx.reference
        ) TO STDOUT WITH CSV HEADER"""  # noqa: S608  (the values are a UUID and dates this script made)
    database = Database(settings)
    raw = database.engine.raw_connection()
    rows = 0
    try:
        with raw.cursor() as cursor, cursor.copy(query) as copy, out.open("wb") as sink:  # type: ignore[attr-defined]
            for chunk in copy:
                sink.write(chunk)
                rows += bytes(chunk).count(b"\n")
    finally:
        raw.close()
        database.engine.dispose()
    return rows - 1


def run_report(
    settings: Settings, business_id: uuid.UUID, start: date, end: date, fmt: str
) -> dict[str, Any]:
    from tasklane.artifacts import DatabaseArtifactStore
    from tasklane.contracts.reports import GenerateSalesReport
    from tasklane.worker import WorkerRuntime
    from tasklane_reports.job import ReportJob
    from tasklane_reports.reports import sales

    runtime = WorkerRuntime(settings, name="bench", queues=("reports",))
    job = ReportJob(runtime, DatabaseArtifactStore(runtime.database))
    payload = GenerateSalesReport(business_id=business_id, start_date=start, end_date=end, format=fmt)
    task = SimpleNamespace(request=SimpleNamespace(id=str(uuid.uuid4())), soft_time_limit=None)
    result = job.run(task, business_id=business_id, fmt=fmt, build=lambda s: sales.build(s, payload))  # type: ignore[arg-type]
    return {"rows": result["rows"], "bytes": result["size_bytes"]}


def child(args: argparse.Namespace) -> None:
    """One measurement, in a fresh process; prints one JSON line."""
    settings = Settings(environment="development", database_url=args.database_url, broker_url=args.broker_url)
    business_id, start, end = (
        uuid.UUID(args.business),
        date.fromisoformat(args.start),
        date.fromisoformat(args.end),
    )
    started = time.perf_counter()
    if args.format == "copy":
        out = Path(tempfile.mkstemp(suffix=".csv")[1])
        outcome = {"rows": copy_rows(settings, business_id, start, end, out), "bytes": out.stat().st_size}
        out.unlink()
    else:
        outcome = run_report(settings, business_id, start, end, args.format)
    # VmHWM is this process image's own peak; ru_maxrss would include the parent's memory before exec.
    status = Path("/proc/self/status").read_text()
    peak_kb = int(next(line for line in status.splitlines() if line.startswith("VmHWM:")).split()[1])
    print(json.dumps({**outcome, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_kb / 1024}))


def measure(kind: str, settings: Settings, business_id: uuid.UUID, start: date, end: date) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "benchmarks.reports", "--child", "--format", kind,
        "--database-url", settings.effective_database_url, "--broker-url", settings.broker_url,
        "--business", str(business_id), "--start", start.isoformat(), "--end", end.isoformat(),
    ]  # fmt: skip
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"{kind} run failed (exit {completed.returncode})")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for option in ("--format", "--database-url", "--broker-url", "--business", "--start", "--end"):
        parser.add_argument(option, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with bench_services() as (_, settings):
        seeded = time.perf_counter()
        summary = generate(
            Database(settings),
            DemoSpec(products=500, customers=20_000, sales=args.sales, users=5, days=365, seed=3),
        )[0]
        print(f"seeded {args.sales:,} sales in {time.perf_counter() - seeded:.0f}s")
        end = datetime.now(UTC).date()
        start = end - timedelta(days=365)
        results = {
            kind: measure(kind, settings, summary.business_id, start, end) for kind in ("copy", *FORMATS)
        }

    copy_seconds = results["copy"]["seconds"]
    print(f"\nsales report, {args.sales:,} transactions over a year, this machine ({os.cpu_count()} cores)")
    print(f"{'run':28}{'seconds':>9}{'vs COPY':>9}{'rows':>11}{'file MB':>9}{'peak RSS MB':>13}")
    labels = {
        "copy": "PostgreSQL COPY (ceiling)",
        "csv": "report CSV",
        "xlsx": "report XLSX",
        "pdf": "report PDF",
    }
    for kind, outcome in results.items():
        print(
            f"{labels[kind]:28}{outcome['seconds']:>9.1f}{outcome['seconds'] / copy_seconds:>8.1f}x"
            f"{outcome['rows']:>11,}{outcome['bytes'] / 2**20:>9.1f}{outcome['peak_rss_mb']:>13.0f}"
        )
    print("\ntargets: CSV within 3x of COPY, XLSX under 60 s, peak RSS under 300 MB for every format")


if __name__ == "__main__":
    main()
