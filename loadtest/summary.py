"""Checking a load test's ledger (see locustfile.py) against the system it ran on, and printing the summary:
locust's figures per endpoint and per task type, then what the consumers caused against what happened.

- every task a consumer was handed: its end state, asked of the API (waiting for it up to the drain time);
- every email that had to go out (a welcome, a receipt, a reminder): found in the inbox exactly once;
- every tenant's credits: its balance is what it started with, plus what it bought, minus what it spent.

Locally (`make loadtest`) the inbox is the run's SMTP capture; in a cluster (`make kind-loadtest`) it is the
Mailpit the kind values send mail to:
    python -m loadtest.summary --ledger FILE --api URL --tenants FILE --mailpit URL
Exit status 1 when anything was lost, duplicated or failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

LEDGER_PREFIX = "LOADTEST-LEDGER "
FINISHED = {"completed", "failed", "cancelled"}
Inbox = Callable[[], list[tuple[list[str], str]]]  # every message so far: (recipients, subject)


@dataclass
class Ledger:
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    emails: list[tuple[str, str]] = field(default_factory=list)
    credits: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    stats: list[dict[str, Any]] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)


def read_ledger(text: str) -> Ledger:
    """The ledger from its file, or from a log holding it as prefixed lines among others."""
    ledger = Ledger()
    for raw in text.splitlines():
        line = raw.split(LEDGER_PREFIX, 1)[1] if LEDGER_PREFIX in raw else raw
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        kind = entry.pop("kind")
        if kind == "task":
            ledger.tasks[entry["id"]] = entry
        elif kind == "email":
            ledger.emails.append((entry["to"], entry["subject"]))
        elif kind == "credits":
            ledger.credits[entry["tenant"]][0] += entry["bought"]
            ledger.credits[entry["tenant"]][1] += entry["spent"]
        elif kind == "stat":
            ledger.stats.append(entry)
        elif kind == "run":
            ledger.run = entry
    return ledger


def mailpit_inbox(url: str) -> Inbox:
    """Every message Mailpit holds, through its HTTP API."""

    def read() -> list[tuple[list[str], str]]:
        found: list[tuple[list[str], str]] = []
        with httpx.Client(base_url=url, timeout=30) as client:
            while True:
                page = client.get("/api/v1/messages", params={"start": len(found), "limit": 1000}).json()
                found += [([to["Address"] for to in m["To"]], m["Subject"]) for m in page["messages"]]
                if not page["messages"] or len(found) >= page["total"]:
                    return found

    return read


@dataclass
class Verdict:
    tasks: Counter[str] = field(default_factory=Counter)  # end state -> tasks
    by_name: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    emails_expected: int = 0
    emails_once: int = 0
    emails_missing: int = 0
    emails_duplicated: int = 0
    credits_expected: Decimal = Decimal(0)
    credits_found: Decimal = Decimal(0)
    credit_mismatches: list[str] = field(default_factory=list)
    http_failures: int = 0

    @property
    def lost(self) -> int:
        return self.tasks["unfinished"] + self.emails_missing

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.emails_duplicated == 0
            and not self.credit_mismatches
            and self.tasks["failed"] == 0
            and self.http_failures == 0
        )


def verify(
    ledger: Ledger, api: str, tenants: list[dict[str, Any]], inbox: Inbox, *, drain: float = 300
) -> Verdict:
    """Wait (up to ``drain`` seconds) for what is still under way to end, then compare."""
    verdict = Verdict(http_failures=sum(s["failures"] for s in ledger.stats))
    deadline = time.time() + drain
    with httpx.Client(base_url=api, timeout=60) as client:
        for task_id, entry in ledger.tasks.items():
            headers = {"Authorization": f"Bearer {tenants[entry['tenant']]['key']}"}
            status = entry["status"]
            while status not in FINISHED and time.time() < deadline:
                status = client.get(f"/v1/tasks/{task_id}", params={"wait": 20}, headers=headers).json()[
                    "status"
                ]
            end = status if status in FINISHED else "unfinished"
            verdict.tasks[end] += 1
            verdict.by_name[entry["name"]][end] += 1

        def counts() -> list[int]:
            subjects: defaultdict[str, list[str]] = defaultdict(
                list
            )  # recipient -> subjects: one pass, however long the run was
            for recipients, subject in inbox():
                for to in recipients:
                    subjects[to].append(subject)
            return [
                sum(1 for subject in subjects.get(to, ()) if wanted in subject)
                for to, wanted in ledger.emails
            ]

        found = counts()
        while any(n == 0 for n in found) and time.time() < deadline:
            time.sleep(2)
            found = counts()
        time.sleep(2)  # a duplicate would arrive right behind its first
        found = counts()
        verdict.emails_expected = len(found)
        verdict.emails_once = sum(1 for n in found if n == 1)
        verdict.emails_missing = sum(1 for n in found if n == 0)
        verdict.emails_duplicated = sum(n - 1 for n in found if n > 1)

        for index, (bought, spent) in sorted(ledger.credits.items()):
            tenant = tenants[index]
            headers = {"Authorization": f"Bearer {tenant['key']}"}
            expected = Decimal(str(tenant["credits"])) + bought - spent
            balance = Decimal(str(client.get("/v1/credits", headers=headers).json()["balance"]))
            verdict.credits_expected += bought - spent
            verdict.credits_found += balance - Decimal(str(tenant["credits"]))
            if balance != expected:
                verdict.credit_mismatches.append(f"{tenant['email']}: balance {balance}, expected {expected}")
    return verdict


def _table(rows: list[dict[str, Any]], seconds: float) -> list[str]:
    out = [f"{'':44}{'requests':>9}{'req/s':>8}{'failures':>9}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"]
    for row in sorted(rows, key=lambda r: -r["requests"]):
        rate = row["requests"] / seconds if seconds else 0.0
        label = f"{row['type']} {row['name']}"[:43]
        out.append(
            f"{label:44}{row['requests']:>9}{rate:>8.1f}{row['failures']:>9}"
            f"{row['p50']:>8.0f}{row['p95']:>8.0f}{row['p99']:>8.0f}"
        )
    return out


def report(ledger: Ledger, verdict: Verdict) -> str:
    seconds = float(ledger.run.get("seconds") or 0)
    endpoints = [s for s in ledger.stats if s["type"] != "task"]
    tasks = [s for s in ledger.stats if s["type"] == "task"]
    lines = [
        f"load: {ledger.run.get('requests', 0)} requests in {seconds:.0f} s "
        f"({ledger.run.get('rps', 0):.1f} req/s), {ledger.run.get('failures', 0)} failed",
        "",
        "per endpoint (HTTP)",
        *_table(endpoints, seconds),
        "",
        "per task type: accepted -> end state (the record's times; payments: webhook answered -> credited)",
        *_table(tasks, seconds),
        "",
        "what the consumers caused, against the system",
        f"  tasks accepted {sum(verdict.tasks.values())}: completed {verdict.tasks['completed']}, "
        f"failed {verdict.tasks['failed']}, cancelled {verdict.tasks['cancelled']}, "
        f"not finished {verdict.tasks['unfinished']}",
        *(
            f"    {name}: " + ", ".join(f"{state} {n}" for state, n in sorted(states.items()))
            for name, states in sorted(verdict.by_name.items())
        ),
        f"  emails expected {verdict.emails_expected}: arrived once {verdict.emails_once}, "
        f"missing {verdict.emails_missing}, duplicated {verdict.emails_duplicated}",
        f"  credits applied (bought - spent) {verdict.credits_found} of {verdict.credits_expected} expected"
        + ("" if not verdict.credit_mismatches else ": " + "; ".join(verdict.credit_mismatches)),
        f"  lost {verdict.lost}, duplicated {verdict.emails_duplicated}, "
        f"HTTP failures {verdict.http_failures}: " + ("OK" if verdict.ok else "NOT OK"),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, required=True, help="the ledger, or a log that holds it")
    parser.add_argument("--api", required=True, help="the API's base URL")
    parser.add_argument("--tenants", type=Path, required=True, help="the tenants file the run used")
    parser.add_argument("--mailpit", required=True, help="Mailpit's HTTP URL (the cluster's inbox)")
    parser.add_argument("--drain", type=float, default=300, help="seconds to wait for work still under way")
    args = parser.parse_args()
    ledger = read_ledger(args.ledger.read_text())
    tenants = json.loads(args.tenants.read_text())
    verdict = verify(ledger, args.api, tenants, mailpit_inbox(args.mailpit), drain=args.drain)
    print(report(ledger, verdict))
    sys.exit(0 if verdict.ok else 1)


if __name__ == "__main__":
    main()
