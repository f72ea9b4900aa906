"""`make loadtest`, briefly: locust's consumers against the whole stack (gunicorn, every worker, beat,
PostgreSQL, Redis, an SMTP capture), and every effect they caused checked: each task ended, each email
arrived once, each tenant's credits add up. The figures come from `make loadtest` and `make soak`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.harness.stack import REPO


def test_a_short_load_test_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "loadtest.run", "--users", "4", "--spawn-rate", "4", "--duration", "20s",
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip

    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "lost 0, duplicated 0, HTTP failures 0: OK" in run.stdout, run.stdout[-4000:]
    ledger = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    kinds = {entry["kind"] for entry in ledger}
    assert {"task", "email", "credits", "stat", "run"} <= kinds
    # Every kind of consumer ran: each task type the locustfile follows has its own entry.
    task_types = {entry["name"] for entry in ledger if entry["kind"] == "stat" and entry["type"] == "task"}
    assert {"notifications.send_welcome_email", "reports.generate_sales_report"} <= task_types, task_types
    assert (tmp_path / "report.html").exists() and (tmp_path / "locust_stats.csv").exists()
