"""A Tasklane installation for tests: environment, settings, worker and API processes."""

from __future__ import annotations

import itertools
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tasklane.celery_app import create_celery_app
from tests.harness.ports import free_port, wait_for
from tests.harness.postgres_server import PostgresServer
from tests.harness.processes import ManagedProcess
from tests.harness.redis_server import RedisServer
from tests.harness.smtp_server import SmtpServer
from tools.settings_doc import AllSettings

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SIGNING_SECRET = "test-signing-secret-0123456789abcdef0123456789"
PAYSTACK_SECRET = "sk_test_5f0c1a3e9b7d2c4a6e8f0b1d3c5a7e9f"
_broker_dbs = itertools.count(1)


@dataclass
class Services:
    postgres: PostgresServer
    redis: RedisServer
    smtp: SmtpServer
    database_url: str


def tasklane_env(services: Services, *, broker_url: str | None = None, **overrides: str) -> dict[str, str]:
    """The environment a Tasklane process gets in tests: production mode, short limits and backoffs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKLANE_")}
    env.update(
        {
            "TASKLANE_ENVIRONMENT": "production",
            "TASKLANE_DATABASE_URL": services.database_url,
            "TASKLANE_BROKER_URL": broker_url or services.redis.url,
            "TASKLANE_SIGNING_SECRET": SIGNING_SECRET,
            "TASKLANE_PUBLIC_BASE_URL": "http://testserver",
            "TASKLANE_SMTP_HOST": "127.0.0.1",
            "TASKLANE_SMTP_PORT": str(services.smtp.port),
            "TASKLANE_SMTP_TIMEOUT": "5",
            "TASKLANE_EMAIL_RETRY_BACKOFF": "1",
            "TASKLANE_EMAIL_RETRY_BACKOFF_MAX": "2",
            "TASKLANE_EMAIL_MAX_RETRIES": "8",
            "TASKLANE_EMAIL_RATE_LIMIT": "",
            "TASKLANE_WORKER_SOFT_SHUTDOWN_TIMEOUT": "3",
            "TASKLANE_NOTIFICATIONS_SOFT_TIME_LIMIT": "15",
            "TASKLANE_NOTIFICATIONS_HARD_TIME_LIMIT": "20",
            "TASKLANE_REPORTS_SOFT_TIME_LIMIT": "20",
            "TASKLANE_REPORTS_HARD_TIME_LIMIT": "25",
            "TASKLANE_PAYMENTS_SOFT_TIME_LIMIT": "10",
            "TASKLANE_PAYMENTS_HARD_TIME_LIMIT": "15",
            "TASKLANE_MAINTENANCE_SOFT_TIME_LIMIT": "20",
            "TASKLANE_MAINTENANCE_HARD_TIME_LIMIT": "25",
            "TASKLANE_WORKER_RETRY_HOLD": "5",
            "TASKLANE_PUBLISH_RETRIES": "1",
            "TASKLANE_PAYSTACK_SECRET_KEY": PAYSTACK_SECRET,
            "TASKLANE_PAYMENT_RELAY_INTERVAL": "1",
            "TASKLANE_LOG_LEVEL": "INFO",
        }
    )
    env.update(overrides)
    return env


def fresh_broker_url(services: Services) -> str:
    """A Redis database no other test uses: its own queues, so its workers see only its messages."""
    return services.redis.db_url(next(_broker_dbs))


def settings_from_env(env: Mapping[str, str]) -> AllSettings:
    """What every process of an installation configured by ``env`` reads (all owners' settings)."""
    values = {k.removeprefix("TASKLANE_").lower(): v for k, v in env.items() if k.startswith("TASKLANE_")}
    return AllSettings(**values)


def start_worker(
    env: Mapping[str, str],
    service: str = "notifications",
    *,
    name: str | None = None,
    concurrency: int = 2,
    extra_args: Sequence[str] = (),
) -> ManagedProcess:
    """Start a worker service through its real entry point and wait until it answers a ping."""
    name = name or f"{service}-{next(_broker_dbs)}"
    hostname = f"{name}@{socket.gethostname()}"
    process = ManagedProcess(
        name,
        [str(BIN / f"tasklane-worker-{service}"), "--hostname", hostname, "--concurrency", str(concurrency),
         "--without-gossip", "--without-mingle", *extra_args],
        env,
        cwd=REPO,
    ).start()  # fmt: skip
    app = create_celery_app(settings_from_env(env))
    try:
        wait_for(
            lambda: process.alive() and app.control.ping(destination=[hostname], timeout=0.5),
            timeout=60,
            interval=0.2,
            what=f"worker {hostname} to answer a ping",
        )
    except TimeoutError as exc:
        process.kill()
        raise AssertionError(f"{exc}\n--- worker log ---\n{process.log()}") from None
    finally:
        app.close()
    return process


def start_api_server(env: Mapping[str, str], *, workers: int = 2) -> tuple[ManagedProcess, str]:
    """Run the API under gunicorn with uvicorn workers, as deployed; returns the process and its base URL."""
    port = free_port()
    server_env = {**env, "TASKLANE_API_BIND": f"127.0.0.1:{port}", "TASKLANE_API_WORKERS": str(workers)}
    process = ManagedProcess(
        "api",
        [str(BIN / "tasklane-api")],
        server_env,
        cwd=REPO,
    ).start()
    base_url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        return process.alive() and httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200

    try:
        wait_for(healthy, timeout=60, interval=0.2, what="gunicorn to serve /healthz")
    except TimeoutError as exc:
        process.kill()
        raise AssertionError(f"{exc}\n--- api log ---\n{process.log()}") from None
    return process, base_url
