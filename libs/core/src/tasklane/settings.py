"""Tasklane configuration: one object per process, read once from ``TASKLANE_*`` environment variables.

``Settings`` holds what every process shares (database, broker, signing, logging, time limits by queue,
the worker runtime's knobs). Each service that has settings of its own extends it with a subclass beside
its code (``ApiSettings``, ``NotificationsSettings``, ...), still ``TASKLANE_*``, and loads that at
start-up with ``load_settings(cls)``; nothing else reads the environment. The README's settings table is
generated from all of them, grouped by owner.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal, NamedTuple, TypeVar

from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tasklane.routing import QUEUES

Environment = Literal["development", "production"]

_DEV_DATABASE_URL = "sqlite:///.dev/tasklane.db"
_DEV_SIGNING_SECRET = "development-only-signing-secret-do-not-deploy"  # noqa: S105
_PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", _DEV_SIGNING_SECRET}


class TimeLimits(NamedTuple):
    """Soft and hard time limits (seconds) of one queue's tasks."""

    soft: int
    hard: int


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TASKLANE_", extra="ignore", frozen=True)

    environment: Environment = Field(
        "production",
        description="`development` allows the embedded defaults (SQLite, a fixed signing secret); "
        "anything else requires real values.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL, e.g. `postgresql+psycopg://user:pw@host/db`. "
        f"Required outside development; development defaults to `{_DEV_DATABASE_URL}`.",
    )
    database_pool_size: int = Field(
        5,
        ge=1,
        description="Connections kept per process (as many again may open briefly); in the API also how many "
        "requests run their blocking work at once per worker process.",
    )
    broker_url: str = Field("redis://localhost:6379/0", description="Celery broker (Redis).")
    result_backend_url: str | None = Field(
        None, description="Celery result backend; defaults to the broker URL."
    )
    redis_sentinel_master: str | None = Field(
        None,
        description="Master name of a Redis Sentinel set; needed when the broker, result backend or beat URL "
        "is a Sentinel one: `sentinel://[:password@]host:26379` URLs joined by `;`, optionally ending in "
        "`/<db>`.",
    )
    broker_visibility_timeout: int | None = Field(
        None,
        ge=1,
        description="Seconds before Redis hands a message a worker took but never acknowledged (the worker "
        "died) to another worker. Derived per worker from its own queues when unset (see *Delivery "
        "guarantees*); when set it must exceed the longest hold of the worker's queues.",
    )
    result_expires: int = Field(86400, ge=60, description="Seconds Celery keeps task results in Redis.")
    signing_secret: SecretStr | None = Field(
        None,
        description="HMAC key for signed download URLs. Required outside development, 32+ characters.",
    )
    public_base_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://localhost:8000"), description="Base URL clients reach the API at (used in links)."
    )

    artifact_retention: int = Field(
        7 * 86400, ge=60, description="Seconds a finished report file is kept before clean-up deletes it."
    )

    reports_soft_time_limit: int = Field(300, ge=1, description="Seconds before a report is asked to stop.")
    reports_hard_time_limit: int = Field(360, ge=1, description="Seconds before a report is killed.")
    notifications_soft_time_limit: int = Field(30, ge=1, description="Soft limit of notification tasks.")
    notifications_hard_time_limit: int = Field(45, ge=1, description="Hard limit of notification tasks.")
    payments_soft_time_limit: int = Field(30, ge=1, description="Soft limit of payment tasks.")
    payments_hard_time_limit: int = Field(60, ge=1, description="Hard limit of payment tasks.")
    maintenance_soft_time_limit: int = Field(300, ge=1, description="Soft limit of maintenance tasks.")
    maintenance_hard_time_limit: int = Field(360, ge=1, description="Hard limit of maintenance tasks.")
    default_soft_time_limit: int = Field(
        300,
        ge=1,
        description="Soft limit of a queue that has no `TASKLANE_<QUEUE>_SOFT_TIME_LIMIT` of its own.",
    )
    default_hard_time_limit: int = Field(
        360,
        ge=1,
        description="Hard limit of a queue that has no `TASKLANE_<QUEUE>_HARD_TIME_LIMIT` of its own.",
    )

    worker_queues: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        None,
        description="Comma-separated queues this worker consumes (the chart sets it per worker set); "
        "default: the worker service's own queues. `-Q/--queues` on the worker command line does the same.",
    )
    worker_retry_hold: int = Field(
        10,
        ge=1,
        description="Longest retry countdown a worker waits out holding the message; a longer one is "
        "written to the task record and re-published by the reconciler when due, so the visibility "
        "timeout (and the redelivery of a killed worker's messages) stays short.",
    )
    task_outage_retries: int = Field(
        50,
        ge=0,
        description="Times a task is retried when PostgreSQL or Redis cannot be reached (1 s, doubling up "
        "to `TASKLANE_WORKER_RETRY_HOLD`, with jitter: 4 to 8 minutes in all by default) before it fails; "
        "counted apart from the task's own retries.",
    )
    worker_heartbeat_file: Path = Field(
        Path("/tmp/tasklane-worker.heartbeat"),  # noqa: S108  (the one writable path in a read-only pod)
        description="File a worker touches every few seconds; `tasklane health heartbeat` (the liveness "
        "probe) checks its age.",
    )
    worker_concurrency: int | None = Field(
        None, ge=1, description="Worker processes per worker pod; defaults to the CPU count."
    )
    worker_soft_shutdown_timeout: float = Field(
        25.0,
        ge=0,
        description="On SIGTERM, seconds running tasks get to finish before unfinished ones are "
        "returned to the queue.",
    )
    publish_retries: int = Field(
        2, ge=0, description="Times the API retries a failed publish before answering 503."
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`json`: one JSON object per line with `trace_id`, `span_id`, `task_id`, `task_name` and "
        "`tenant_id` where known (Celery's and gunicorn's own loggers too); `text`: for a terminal.",
    )
    metrics_port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Port of this process's Prometheus `/metrics` (the API's gunicorn master, a worker's "
        "main process, beat); unset: no metrics server. The chart sets 9100.",
    )
    sentry_dsn: SecretStr | None = Field(
        None, description="Sentry DSN; errors (and beat's check-ins) are reported when set."
    )
    sentry_traces_sample_rate: float = Field(
        0.0, ge=0, le=1, description="Share of transactions Sentry samples for performance (0: errors only)."
    )

    @field_validator("worker_queues", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(q.strip() for q in value.split(",") if q.strip()) or None
        return value

    @field_validator("worker_queues")
    @classmethod
    def _known_queues(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and (unknown := [q for q in value if q not in QUEUES]):
            raise ValueError(f"unknown queues {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for queue in QUEUES:
            limits = self.time_limits(queue)
            if limits.hard <= limits.soft:
                raise ValueError(
                    f"TASKLANE_{queue.upper()}_HARD_TIME_LIMIT ({limits.hard}) must be larger than "
                    f"TASKLANE_{queue.upper()}_SOFT_TIME_LIMIT ({limits.soft})"
                )
        urls = (self.broker_url, self.effective_result_backend_url)
        if not self.redis_sentinel_master and any(url.startswith("sentinel://") for url in urls):
            raise ValueError("TASKLANE_REDIS_SENTINEL_MASTER is required with sentinel:// Redis URLs")
        explicit_timeout = self.broker_visibility_timeout
        held = self.hold(self.worker_queues or QUEUES)
        if explicit_timeout is not None and explicit_timeout <= held:
            raise ValueError(
                f"TASKLANE_BROKER_VISIBILITY_TIMEOUT ({explicit_timeout}) must exceed the longest "
                f"time a worker may hold a message of its queues (TASKLANE_WORKER_RETRY_HOLD + the hard "
                f"time limit = {held}s), or long tasks would run twice"
            )
        if self.environment == "development":
            return self
        if not self.database_url:
            raise ValueError("TASKLANE_DATABASE_URL is required outside development")
        secret = self.signing_secret.get_secret_value() if self.signing_secret else ""
        if not secret:
            raise ValueError("TASKLANE_SIGNING_SECRET is required outside development")
        if secret in _PLACEHOLDER_SECRETS or len(secret) < 32:
            raise ValueError("TASKLANE_SIGNING_SECRET must be a random value of at least 32 characters")
        return self

    def time_limits(self, queue: str) -> TimeLimits:
        limits = {
            "reports": TimeLimits(self.reports_soft_time_limit, self.reports_hard_time_limit),
            "notifications": TimeLimits(
                self.notifications_soft_time_limit, self.notifications_hard_time_limit
            ),
            "payments": TimeLimits(self.payments_soft_time_limit, self.payments_hard_time_limit),
            "maintenance": TimeLimits(self.maintenance_soft_time_limit, self.maintenance_hard_time_limit),
        }
        return limits.get(queue, TimeLimits(self.default_soft_time_limit, self.default_hard_time_limit))

    def hold(self, queues: Iterable[str]) -> int:
        """The longest a worker consuming ``queues`` legitimately holds a message unacknowledged: a retry
        waiting out its countdown (at most ``worker_retry_hold``), then a run up to the hard time limit.
        SIGTERM's soft shutdown adds nothing: the hard limit still ends a run within it, and what has not
        run by its end goes back to the queue."""
        longest_run = max(self.time_limits(q).hard for q in queues)
        return int(self.worker_retry_hold + longest_run)

    def visibility_timeout(self, queues: Iterable[str]) -> int:
        """Seconds before Redis hands a held message to another worker, for a worker consuming ``queues``.

        A redelivery before the first holder is done would run the task twice, so it is the hold plus a
        margin (10%, at least 10 s) for clocks that disagree between hosts; a worker killed outright has
        its messages redelivered this long after it took them.
        """
        if self.broker_visibility_timeout is not None:
            return self.broker_visibility_timeout
        held = self.hold(queues)
        return held + max(10, held // 10)

    @property
    def effective_database_url(self) -> str:
        return self.database_url or _DEV_DATABASE_URL

    @property
    def effective_result_backend_url(self) -> str:
        return self.result_backend_url or self.broker_url

    @property
    def signing_key(self) -> bytes:
        secret = self.signing_secret.get_secret_value() if self.signing_secret else _DEV_SIGNING_SECRET
        return secret.encode()


class ConfigurationError(Exception):
    """Settings that cannot be used; the message names each offending ``TASKLANE_*`` variable."""


S = TypeVar("S", bound=Settings)


def load_settings(cls: type[S]) -> S:
    """``cls()`` from the environment, with validation errors turned into one readable message per
    variable."""
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            field = str(error["loc"][0]) if error["loc"] else ""
            problems.append(f"TASKLANE_{field.upper()}: {message}" if field else message)
        raise ConfigurationError("invalid configuration:\n  " + "\n  ".join(problems)) from None
