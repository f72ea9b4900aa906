"""Throwaway PostgreSQL and Redis for a benchmark run (the same harness the tests use)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tasklane.db.migrate import upgrade
from tasklane.settings import Settings
from tests.harness.postgres_server import PostgresServer
from tests.harness.redis_server import RedisServer
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, settings_from_env, tasklane_env


@contextmanager
def bench_services() -> Iterator[tuple[Services, Settings]]:
    postgres, redis, smtp = PostgresServer(), RedisServer(), SmtpServer()
    postgres.start()
    redis.start()
    try:
        services = Services(postgres, redis, smtp, postgres.create_database("bench"))
        settings = settings_from_env(tasklane_env(services))
        upgrade(settings)
        yield services, settings
    finally:
        redis.stop()
        postgres.destroy()
