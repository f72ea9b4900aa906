"""Fault scenarios against a whole installation run as processes: the API under gunicorn, workers, beat,
a private PostgreSQL and Redis. Used by the durability tests (this checkout) and by `make bench-durability`,
which runs the same scenarios against an earlier revision too, so everything here talks to the system from
outside: HTTP, the `tasklane` CLI, SQL on the task records, the SMTP capture.

Each scenario runs the stack as deployed, the reconciler included (``reconciler`` starts it: beat with only
the reconciler's entry, and a worker for the maintenance queue unless the scenario has one), accepts work
through the API, breaks something, and reports what happened to every task:
accepted, delivered (its effect seen: an email, a completed record), duplicated (an effect seen twice),
and the worst delay between the fault and the last affected task's completion.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tasklane.celery_app import create_celery_app
from tasklane_maintenance.broker_inventory import BrokerInventory
from tests.harness.ports import free_port, wait_for
from tests.harness.postgres_server import PostgresServer
from tests.harness.processes import ManagedProcess
from tests.harness.redis_server import RedisServer
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import BIN, REPO, Services, settings_from_env, tasklane_env

FINISHED = ("completed", "failed", "cancelled")


@dataclass
class Outcome:
    scenario: str
    accepted: int = 0
    delivered: int = 0
    duplicated: int = 0
    worst_delay: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return self.accepted - self.delivered


@dataclass
class Installation:
    """One Tasklane installation on private services, run from the executables in ``bin`` (a venv's bin):
    ``api`` is the command that serves the API there."""

    bin: Path
    api: Sequence[str]
    postgres: PostgresServer
    redis: RedisServer
    smtp: SmtpServer
    env: dict[str, str]
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.env["TASKLANE_DATABASE_URL"]

    def tasklane(self, *args: str) -> str:
        done = subprocess.run(
            [str(self.bin / "tasklane"), *args], env=self.env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise AssertionError(f"tasklane {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def demo_data(self, *args: str) -> None:
        """Fill the database with the checkout's demo-data tool (development tooling, in no revision's
        installation)."""
        done = subprocess.run(
            [sys.executable, "-m", "tools.demo_data", *args], env=self.env, cwd=REPO, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"demo data failed:\n{done.stderr}")

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> ManagedProcess:
        process = ManagedProcess(name, argv, env or self.env, cwd=self.bin.parent.parent).start()
        self.processes.append(process)
        return process

    def start_worker(self, service: str, *, concurrency: int = 2) -> ManagedProcess:
        hostname = f"{service}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        worker = self.start(
            hostname,
            [str(self.bin / f"tasklane-worker-{service}"), "--hostname", hostname, "--concurrency",
             str(concurrency), "--without-gossip", "--without-mingle"],
        )  # fmt: skip
        app = create_celery_app(settings_from_env(self.env))
        try:
            wait_for(
                lambda: worker.alive() and app.control.ping(destination=[hostname], timeout=0.5),
                timeout=60,
                interval=0.2,
                what=f"worker {hostname}",
            )
        finally:
            app.close()
        return worker

    def start_api(self) -> str:
        port = free_port()
        env = {**self.env, "TASKLANE_API_BIND": f"127.0.0.1:{port}", "TASKLANE_API_WORKERS": "2"}
        api = self.start("api", self.api, env)
        url = f"http://127.0.0.1:{port}"
        wait_for(
            lambda: api.alive() and httpx.get(f"{url}/readyz", timeout=2).status_code == 200,
            timeout=60,
            what="the API",
        )
        return url

    def start_beat(self, overrides: dict[str, Any]) -> ManagedProcess:
        env = {**self.env, "TASKLANE_BEAT_SCHEDULE_OVERRIDES": json.dumps(overrides)}
        return self.start("beat", [str(self.bin / "tasklane-beat")], env)

    def tenant(self, *, credits: int = 0) -> tuple[str, str]:
        """A new business (with an opening credit balance): its API key and owner email."""
        owner = f"owner-{uuid.uuid4().hex[:8]}@shop.io"
        out = self.tasklane(
            "admin", "create-business", "--name", f"Shop {owner}", "--email", owner, "--credits", str(credits)
        )
        return out.strip().rsplit(": ", 1)[-1], owner

    def records(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT id, status, finished_at FROM task_records WHERE id = ANY(:ids)"),
                    {"ids": list(ids)},
                ).mappings()
                return {row["id"]: dict(row) for row in rows}
        finally:
            engine.dispose()

    def held(self) -> set[str]:
        """Task ids the workers hold unacknowledged right now (as the broker sees it)."""
        app = create_celery_app(settings_from_env(self.env))
        try:
            with BrokerInventory(app, scan_limit=1) as broker:
                return broker.held()
        finally:
            app.close()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.kill()


@contextmanager
def installation(
    smtp: SmtpServer, *, bin: Path = BIN, api: Sequence[str] | None = None, **settings: str
) -> Iterator[Installation]:
    """A private PostgreSQL and Redis (so scenarios may break them), the given SMTP capture, a migrated
    database; the env is the tests' own (short limits), with ``settings`` on top."""
    postgres, redis = PostgresServer(), RedisServer()
    postgres.start()
    redis.start()
    own = Services(postgres=postgres, redis=redis, smtp=smtp, database_url=postgres.url("postgres"))
    setup = Installation(
        bin, api or [str(bin / "tasklane-api")], postgres, redis, smtp, tasklane_env(own, **settings)
    )
    try:
        setup.tasklane("db", "upgrade")
        yield setup
    finally:
        setup.stop()
        redis.stop()
        postgres.destroy()


RECONCILE_EVERY = 5  # seconds between the reconciler's runs in the scenarios (30 s by default)


def start_reconciler(setup: Installation, *, entry: str, entries: Iterable[str], worker: bool) -> None:
    """Beat publishing only the reconciler's ``entry`` (of the schedule's ``entries``), every few seconds, and
    with ``worker`` a reports worker, which consumes the maintenance queue."""
    overrides: dict[str, Any] = {name: {"enabled": False} for name in entries}
    overrides[entry] = {"every": RECONCILE_EVERY}
    if worker:
        setup.start_worker("reports")
    setup.start_beat(overrides)


def register_users(api: str, key: str, count: int, tag: str) -> dict[str, str]:
    """Create ``count`` users; returns {email: welcome email task id}."""
    tasks = {}
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for i in range(count):
            email = f"{tag}-{i}@example.com"
            response = client.post("/v1/users", json={"email": email, "name": f"User {i}"})
            assert response.status_code == 201, response.text
            tasks[email] = response.json()["welcome_email_task_id"]
    return tasks


def _at(value: datetime | None) -> float | None:
    return value.replace(tzinfo=value.tzinfo or UTC).timestamp() if value else None


def settle_emails(
    setup: Installation, outcome: Outcome, tasks: dict[str, str], *, deadline: float, affected_since: float
) -> None:
    """Wait (until ``deadline``) for every email to arrive and every record to finish, then count."""

    def all_done() -> bool:
        return all(setup.smtp.messages_to(email) for email in tasks) and all(
            r["status"] in FINISHED for r in setup.records(list(tasks.values())).values()
        )

    while time.time() < deadline and not all_done():
        time.sleep(0.5)
    setup.smtp.settle(2)
    counts = {email: len(setup.smtp.messages_to(email)) for email in tasks}
    outcome.delivered = sum(1 for n in counts.values() if n)
    outcome.duplicated = sum(n - 1 for n in counts.values() if n > 1)
    records = setup.records(list(tasks.values()))
    not_completed = Counter(r["status"] for r in records.values() if r["status"] != "completed")
    if not_completed:
        outcome.notes.append(f"records not completed: {dict(not_completed)}")
    finished = [t for r in records.values() if (t := _at(r["finished_at"]))]
    if finished and outcome.delivered == outcome.accepted:
        outcome.worst_delay = round(max(finished) - affected_since, 1)


def postgres_blink(
    setup: Installation,
    *,
    reconciler: Callable[[], None],
    emails: int = 100,
    outage: float = 10,
    wait: float = 120,
) -> Outcome:
    """PostgreSQL stops for ``outage`` seconds while a worker drains a backlog of welcome emails."""
    outcome = Outcome("PostgreSQL down 10 s mid-drain")
    api, (key, _) = setup.start_api(), setup.tenant()
    reconciler()
    tasks = register_users(api, key, emails, f"blink-{uuid.uuid4().hex[:6]}")
    outcome.accepted = len(tasks)
    setup.smtp.rcpt_delay = 0.05  # a drain that takes seconds, so the outage lands in the middle of it
    setup.start_worker("notifications")
    wait_for(lambda: sum(1 for e in tasks if setup.smtp.messages_to(e)) >= emails // 5, timeout=60)
    # "fast": every connection is cut and open transactions are lost, as in a crash or a failover; the test
    # server runs with synchronous_commit=off, so an "immediate" stop would also lose commits it confirmed.
    setup.postgres.stop("fast")
    time.sleep(outage)
    setup.postgres.start()
    back = time.time()
    settle_emails(setup, outcome, tasks, deadline=back + wait, affected_since=back)
    return outcome


def notifications_killed(
    setup: Installation,
    *,
    reconciler: Callable[[], None],
    emails: int = 200,
    kills: int = 5,
    wait: float = 150,
) -> Outcome:
    """kill -9 of the notifications worker ``kills`` times while it sends ``emails`` welcome emails."""
    outcome = Outcome(f"kill -9 of the notifications worker x{kills}")
    api, (key, _) = setup.start_api(), setup.tenant()
    reconciler()
    tasks = register_users(api, key, emails, f"kill-{uuid.uuid4().hex[:6]}")
    outcome.accepted = len(tasks)
    setup.smtp.rcpt_delay = 0.05
    held_at_kill: list[tuple[float, set[str]]] = []
    worker = setup.start_worker("notifications")
    for k in range(1, kills + 1):
        wait_for(lambda k=k: sum(1 for e in tasks if setup.smtp.messages_to(e)) >= k * emails // (kills + 2),
                 timeout=120, what=f"progress before kill {k}")  # fmt: skip
        held = setup.held()
        worker.kill()  # SIGKILL to the whole process group: the main process and its pool
        held_at_kill.append((time.time(), held))
        worker = setup.start_worker("notifications")
    settle_emails(setup, outcome, tasks, deadline=time.time() + wait, affected_since=time.time())
    outcome.worst_delay = _worst_after_kills(setup, held_at_kill)
    return outcome


def _worst_after_kills(setup: Installation, held_at_kill: list[tuple[float, set[str]]]) -> float | None:
    """The longest any task a killed worker held waited, from the kill to its completion."""
    delays = []
    for killed_at, held in held_at_kill:
        for record in setup.records(list(held)).values():
            if (finished := _at(record["finished_at"])) and finished > killed_at:
                delays.append(finished - killed_at)
    return round(max(delays), 1) if delays else None


def reports_killed(
    setup: Installation,
    *,
    reconciler: Callable[[], None],
    reports: int = 10,
    kills: int = 2,
    wait: float = 180,
) -> Outcome:
    """kill -9 of the reports worker ``kills`` times during ``reports`` sales reports (XLSX, a year); the
    reconciler runs on the maintenance queue of that same worker, as it does by default."""
    outcome = Outcome(f"kill -9 of the reports worker x{kills}")
    key, owner = setup.tenant()
    setup.demo_data("--products", "100", "--customers", "300", "--sales", "20000", "--business-email", owner)
    api = setup.start_api()
    today = datetime.now(UTC).date()
    body = {
        "start_date": today.replace(year=today.year - 1).isoformat(),
        "end_date": today.isoformat(),
        "format": "xlsx",
    }
    with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        ids = [client.post("/v1/reports/sales", json=body).json()["task_id"] for _ in range(reports)]
    outcome.accepted = len(ids)
    worker = setup.start_worker("reports")
    reconciler()
    held_at_kill: list[tuple[float, set[str]]] = []
    for k in range(1, kills + 1):
        wait_for(lambda k=k: _completed(setup, ids) >= k * reports // (kills + 2), timeout=120,
                 what=f"progress before kill {k}")  # fmt: skip
        held = setup.held()
        worker.kill()
        held_at_kill.append((time.time(), held))
        worker = setup.start_worker("reports")
    deadline = time.time() + wait
    while time.time() < deadline and _completed(setup, ids) < len(ids):
        time.sleep(1)
    outcome.delivered = _completed(setup, ids)
    outcome.duplicated = _artifacts(setup, ids) - outcome.delivered
    outcome.worst_delay = _worst_after_kills(setup, held_at_kill)
    return outcome


def _completed(setup: Installation, ids: Sequence[str]) -> int:
    return sum(1 for r in setup.records(ids).values() if r["status"] == "completed")


def _artifacts(setup: Installation, ids: Sequence[str]) -> int:
    engine = create_engine(setup.database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM report_artifacts WHERE task_id = ANY(:ids)"),
                    {"ids": list(ids)},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def redis_forgets(
    setup: Installation, *, reconciler: Callable[[], None], emails: int = 100, wait: float = 150
) -> Outcome:
    """Redis restarts without persistence while ``emails`` welcome emails wait in their queue."""
    outcome = Outcome("Redis restarted empty, 100 emails queued")
    api, (key, _) = setup.start_api(), setup.tenant()
    tasks = register_users(api, key, emails, f"forget-{uuid.uuid4().hex[:6]}")
    outcome.accepted = len(tasks)
    setup.redis.stop()  # nothing persisted: every queued message is gone
    setup.redis.start()
    restarted = time.time()
    setup.start_worker("notifications")
    reconciler()
    settle_emails(setup, outcome, tasks, deadline=restarted + wait, affected_since=restarted)
    return outcome
