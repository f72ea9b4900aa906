"""Tasklane configuration: one object, read once from ``TASKLANE_*`` environment variables.

Every service builds a ``Settings`` at start-up and passes it down; nothing else reads the environment.
The README's settings table documents each field.
"""

from __future__ import annotations

import json
from typing import Any, Literal, NamedTuple

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    NameEmail,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "production"]
SmtpSecurity = Literal["none", "starttls", "tls"]

QUEUES = ("reports", "notifications", "payments", "maintenance")

_DEV_DATABASE_URL = "sqlite:///.dev/tasklane.db"
_DEV_SIGNING_SECRET = "development-only-signing-secret-do-not-deploy"  # noqa: S105
_PLACEHOLDER_SECRETS = {"changethis", "changeme", "secret", _DEV_SIGNING_SECRET}


class TimeLimits(NamedTuple):
    """Soft and hard time limits (seconds) of one queue's tasks."""

    soft: int
    hard: int


class ScheduleOverride(BaseModel):
    """A change to one beat schedule entry: a new interval (`every`, seconds) or crontab (`cron`, five
    fields, UTC), extra task kwargs, a different `expires` (seconds), or `enabled: false`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    every: float | None = Field(None, gt=0)
    cron: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expires: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleOverride:
        if self.every is not None and self.cron is not None:
            raise ValueError("give `every` or `cron`, not both")
        return self


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
    database_pool_size: int = Field(5, ge=1, description="Connections kept per process.")
    broker_url: str = Field("redis://localhost:6379/0", description="Celery broker (Redis).")
    result_backend_url: str | None = Field(
        None, description="Celery result backend; defaults to the broker URL."
    )
    broker_visibility_timeout: int | None = Field(
        None,
        ge=1,
        description="Seconds before Redis redelivers an unacknowledged message. Derived from the longest "
        "hard time limit when unset; when set it must exceed the longest hold.",
    )
    result_expires: int = Field(86400, ge=60, description="Seconds Celery keeps task results in Redis.")
    signing_secret: SecretStr | None = Field(
        None,
        description="HMAC key for signed download URLs. Required outside development, 32+ characters.",
    )
    public_base_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://localhost:8000"), description="Base URL clients reach the API at (used in links)."
    )

    smtp_host: str = Field("localhost", description="SMTP relay host.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP relay port.")
    smtp_sender: NameEmail = Field(
        NameEmail("Tasklane", "no-reply@tasklane.local"), description="`From:` of every email."
    )
    smtp_security: SmtpSecurity = Field(
        "none", description="`none`, `starttls` (upgrade after connecting) or `tls` (implicit TLS)."
    )
    smtp_username: str | None = Field(None, description="SMTP login, if the relay needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_timeout: float = Field(10.0, gt=0, description="Seconds to wait on the SMTP relay per operation.")
    email_max_retries: int = Field(8, ge=0, description="Retries of a transient email failure.")
    email_retry_backoff: int = Field(
        5, ge=1, description="First retry delay in seconds; doubles each retry, with full jitter."
    )
    email_retry_backoff_max: int = Field(600, ge=1, description="Cap on one email retry delay (seconds).")
    email_rate_limit: str | None = Field(
        "120/m",
        pattern=r"^\d+(\.\d+)?/[smh]$",
        description="Celery `rate_limit` of each email task type per notifications worker, to protect the "
        "SMTP relay; empty for none. Measured: limits above ~2/s fall to ~1/s under sustained load in "
        "Celery 5.7, so raise relay throughput with more workers, not a higher limit.",
    )
    low_stock_alert_window_hours: int = Field(
        6, ge=1, le=168, description="One low-stock alert per business and set of products per window."
    )
    artifact_retention: int = Field(
        7 * 86400, ge=60, description="Seconds a finished report file is kept before clean-up deletes it."
    )
    download_url_ttl: int = Field(
        900, ge=10, description="Seconds a signed download URL in a task's `result.file_url` stays valid."
    )
    report_link_ttl: int = Field(
        86400, ge=60, description="Seconds a download link in a report-ready email stays valid."
    )
    dispatch_page_size: int = Field(
        500, ge=1, le=10000, description="Businesses per page (and per group of messages) in fan-out tasks."
    )

    reports_soft_time_limit: int = Field(300, ge=1, description="Seconds before a report is asked to stop.")
    reports_hard_time_limit: int = Field(360, ge=1, description="Seconds before a report is killed.")
    notifications_soft_time_limit: int = Field(60, ge=1, description="Soft limit of notification tasks.")
    notifications_hard_time_limit: int = Field(90, ge=1, description="Hard limit of notification tasks.")
    payments_soft_time_limit: int = Field(30, ge=1, description="Soft limit of payment tasks.")
    payments_hard_time_limit: int = Field(60, ge=1, description="Hard limit of payment tasks.")
    maintenance_soft_time_limit: int = Field(600, ge=1, description="Soft limit of maintenance tasks.")
    maintenance_hard_time_limit: int = Field(660, ge=1, description="Hard limit of maintenance tasks.")

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
    paystack_secret_key: SecretStr | None = Field(
        None, description="Paystack secret key: verifies `X-Paystack-Signature` on webhooks. Unset: 503."
    )
    credit_prices: dict[str, int] = Field(
        {"NGN": 2000, "GHS": 150, "KES": 1500, "USD": 10},
        description="Price of one AI credit per currency, in the currency's smallest unit (JSON object).",
    )
    webhook_max_bytes: int = Field(65536, ge=1024, description="Largest webhook body accepted (413 above).")
    webhook_store_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a webhook waits for its event to be stored before it is answered 503, so the "
        "provider delivers it again.",
    )
    payment_relay_interval: float = Field(
        5.0,
        gt=0,
        description="Seconds between the payments relay's sweeps for stored events it has not queued yet "
        "(on PostgreSQL it also wakes at once on each new event).",
    )
    readiness_timeout: float = Field(1.0, gt=0, description="Seconds each `/readyz` check may take.")

    beat_schedule_overrides: dict[str, ScheduleOverride] = Field(
        default_factory=dict,
        description="JSON object changing beat's schedule by entry name, e.g. "
        '`{"send-low-stock-alerts": {"every": 3600}, "deactivate-inactive-users": {"enabled": false}}`; '
        "each entry takes `every` (seconds) or `cron` (UTC), `kwargs`, `expires`, `enabled`.",
    )
    beat_redis_url: str | None = Field(
        None, description="Redis holding beat's schedule state and lock (default: the broker URL)."
    )
    beat_max_loop_interval: float = Field(
        5.0, gt=0, description="Longest beat sleeps between checks of the schedule (seconds)."
    )
    beat_lock_timeout: int = Field(
        30,
        ge=2,
        description="Seconds beat's lock outlives a beat that died without releasing it; a standby beat "
        "takes over after this long.",
    )
    task_record_retention_days: int = Field(
        90, ge=1, description="Finished task records older than this many days are deleted by maintenance."
    )
    user_inactivity_days: int = Field(
        365, ge=1, description="Users inactive for longer than this many days are deactivated by maintenance."
    )
    maintenance_batch_size: int = Field(
        1000, ge=1, le=100_000, description="Rows each maintenance batch deletes or updates per transaction."
    )
    undelivered_task_grace: int = Field(
        30,
        ge=1,
        description="Seconds a committed task record may wait for its first publish before the "
        "maintenance relay publishes it.",
    )

    api_bind: str = Field("0.0.0.0:8000", description="Address gunicorn listens on.")
    api_workers: int = Field(2, ge=1, description="Gunicorn worker processes.")
    api_timeout: int = Field(30, ge=1, description="Seconds before gunicorn restarts a silent worker.")
    api_graceful_timeout: int = Field(
        30, ge=1, description="Seconds in-flight requests get to finish on shutdown."
    )
    api_keepalive: int = Field(5, ge=0, description="Seconds an idle keep-alive connection is held.")
    api_reuse_port: bool = Field(
        True,
        description="Give each gunicorn worker its own SO_REUSEPORT socket so the kernel spreads connections "
        "evenly; with one shared socket, whichever worker wakes first takes a burst of connections and "
        "keeps them. A worker that dies drops the connections still queued on its socket.",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")

    @field_validator("beat_schedule_overrides", mode="before")
    @classmethod
    def _json_text(cls, value: object) -> object:
        # The environment hands JSON over as text; so do callers building Settings from such values.
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("email_rate_limit", mode="before")
    @classmethod
    def _empty_means_unlimited(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for queue in QUEUES:
            limits = self.time_limits(queue)
            if limits.hard <= limits.soft:
                raise ValueError(
                    f"TASKLANE_{queue.upper()}_HARD_TIME_LIMIT ({limits.hard}) must be larger than "
                    f"TASKLANE_{queue.upper()}_SOFT_TIME_LIMIT ({limits.soft})"
                )
        if self.beat_lock_timeout <= self.beat_max_loop_interval:
            raise ValueError(
                f"TASKLANE_BEAT_LOCK_TIMEOUT ({self.beat_lock_timeout}) must exceed "
                f"TASKLANE_BEAT_MAX_LOOP_INTERVAL ({self.beat_max_loop_interval}): beat refreshes its lock "
                "once per loop"
            )
        explicit_timeout = self.broker_visibility_timeout
        if explicit_timeout is not None and explicit_timeout <= self.longest_hold:
            raise ValueError(
                f"TASKLANE_BROKER_VISIBILITY_TIMEOUT ({explicit_timeout}) must exceed the longest "
                f"time a worker may hold a message ({self.longest_hold}s), or long tasks would run twice"
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
        return TimeLimits(
            soft=getattr(self, f"{queue}_soft_time_limit"), hard=getattr(self, f"{queue}_hard_time_limit")
        )

    @property
    def longest_hold(self) -> int:
        """The longest a worker legitimately holds an unacknowledged message: the longest hard time limit,
        or an email retry waiting out its countdown, plus the soft-shutdown grace."""
        longest = max(*(self.time_limits(q).hard for q in QUEUES), self.email_retry_backoff_max)
        return int(longest + self.worker_soft_shutdown_timeout)

    @property
    def visibility_timeout(self) -> int:
        """Seconds before Redis hands an unacknowledged message to another worker; a redelivery before the
        first holder is done would run the task twice, so it is the longest hold with a wide margin."""
        return self.broker_visibility_timeout or int(self.longest_hold * 1.5) + 60

    @property
    def effective_database_url(self) -> str:
        return self.database_url or _DEV_DATABASE_URL

    @property
    def effective_beat_redis_url(self) -> str:
        return self.beat_redis_url or self.broker_url

    @property
    def effective_result_backend_url(self) -> str:
        return self.result_backend_url or self.broker_url

    @property
    def signing_key(self) -> bytes:
        secret = self.signing_secret.get_secret_value() if self.signing_secret else _DEV_SIGNING_SECRET
        return secret.encode()


class ConfigurationError(Exception):
    """Settings that cannot be used; the message names each offending ``TASKLANE_*`` variable."""


def load_settings() -> Settings:
    """``Settings()`` with validation errors turned into one readable message per variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            field = str(error["loc"][0]) if error["loc"] else ""
            problems.append(f"TASKLANE_{field.upper()}: {message}" if field else message)
        raise ConfigurationError("invalid configuration:\n  " + "\n  ".join(problems)) from None
