"""What pods run around their service: the schema wait, and the worker's liveness and readiness probes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from tasklane.db.migrate import head_revision
from tests.harness.stack import Services, fresh_broker_url, start_worker, tasklane_env

TASKLANE = str(Path(sys.executable).parent / "tasklane")


def _run(env: dict[str, str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TASKLANE, *args], env=env, capture_output=True, text=True, check=False, timeout=timeout
    )


def test_db_wait_holds_a_pod_until_the_schema_is_at_this_releases_head(services: Services) -> None:
    url = services.postgres.create_database("schema_wait")
    env = tasklane_env(services, TASKLANE_DATABASE_URL=url)

    started = time.monotonic()
    waiting = _run(env, "db", "wait", "--timeout", "2", "--interval", "0.5")

    assert waiting.returncode == 1
    assert time.monotonic() - started >= 2
    assert f"still at revision none (empty) after 2s; this release needs {head_revision()}" in waiting.stderr

    waiter = subprocess.Popen(
        [TASKLANE, "db", "wait", "--timeout", "60", "--interval", "0.5"], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert _run(env, "db", "upgrade").returncode == 0
    out, _ = waiter.communicate(timeout=30)
    assert waiter.returncode == 0
    assert out.strip() == f"database at revision {head_revision()}"

    # A later release migrated further: this release's pods still start (migrations are additive).
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_a_later_release'")
    newer = _run(env, "db", "wait", "--timeout", "2", "--interval", "0.5")
    assert newer.returncode == 0, newer.stderr
    assert f"newer than this release's {head_revision()}" in newer.stdout


def test_db_wait_keeps_waiting_while_the_database_is_unreachable(services: Services) -> None:
    env = tasklane_env(services, TASKLANE_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/none")

    result = _run(env, "db", "wait", "--timeout", "1", "--interval", "0.5")

    assert result.returncode == 1
    assert "waiting: database unreachable" in result.stderr


def test_the_heartbeat_is_fresh_while_a_worker_runs_and_gone_once_it_stops(
    services: Services, tmp_path: Path
) -> None:
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_WORKER_HEARTBEAT_FILE=str(tmp_path / "heartbeat"),
    )
    assert "no heartbeat at" in _run(env, "health", "heartbeat").stderr

    worker = start_worker(env, "notifications")
    try:
        alive = _run(env, "health", "heartbeat", "--max-age", "10")
        ready = _run(env, "health", "ping", "--timeout", "5")
        assert alive.returncode == 0, alive.stderr
        assert ready.returncode == 0, ready.stderr
        # The readiness probe pinged this host's worker through the broker, by the node name it runs as.
        assert ready.stdout.strip() == f"{worker.name}@{socket.gethostname()}"
    finally:
        worker.stop()
    assert not (tmp_path / "heartbeat").exists()
    assert _run(env, "health", "heartbeat").returncode == 1


def test_readiness_fails_with_the_reason_when_no_worker_answers(services: Services) -> None:
    env = tasklane_env(services, broker_url=fresh_broker_url(services))

    result = _run(env, "health", "ping", "--timeout", "1")

    assert result.returncode == 1
    assert "no worker on" in result.stderr


def test_queues_given_on_the_command_line_decide_what_is_consumed_and_reach_the_app(
    services: Services,
) -> None:
    env = tasklane_env(services, broker_url=fresh_broker_url(services))
    worker = start_worker(env, "reports", extra_args=["--queues", "maintenance"])
    try:
        log = worker.log()
        environ = Path(f"/proc/{worker.pid}/environ").read_bytes().split(b"\0")
    finally:
        worker.stop()
    assert ".> maintenance" in log
    assert ".> reports" not in log
    # The app built its broker keys and visibility timeout from the same queues the worker consumes.
    assert b"TASKLANE_WORKER_QUEUES=maintenance" in environ
