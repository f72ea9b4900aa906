"""The API's own settings: gunicorn, readiness, download links, credit prices and payment webhooks."""

from __future__ import annotations

from pydantic import Field, SecretStr

from tasklane.settings import Settings


class ApiSettings(Settings):
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
    readiness_timeout: float = Field(1.0, gt=0, description="Seconds each `/readyz` check may take.")
    download_url_ttl: int = Field(
        900, ge=10, description="Seconds a signed download URL in a task's `result.file_url` stays valid."
    )
    credit_prices: dict[str, int] = Field(
        {"NGN": 2000, "GHS": 150, "KES": 1500, "USD": 10},
        description="Price of one AI credit per currency, in the currency's smallest unit (JSON object).",
    )
    paystack_secret_key: SecretStr | None = Field(
        None,
        description="Paystack secret key that verifies `X-Paystack-Signature` on webhooks; several, "
        "comma-separated, while a key is being rotated (each is tried). Unset: webhooks answer 503.",
    )
    webhook_max_bytes: int = Field(65536, ge=1024, description="Largest webhook body accepted (413 above).")
    webhook_store_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds a webhook waits for its event to be stored before it is answered 503, so the "
        "provider delivers it again.",
    )
    webhook_timestamp_tolerance: int = Field(
        300,
        ge=1,
        description="Seconds a timestamped webhook signature (`t=…,v1=…`) stays acceptable; an older one "
        "(a replay) or one from further in the future is refused with 401.",
    )

    @property
    def paystack_secrets(self) -> tuple[bytes, ...]:
        """Every configured Paystack secret key (one, or several while rotating)."""
        raw = self.paystack_secret_key.get_secret_value() if self.paystack_secret_key else ""
        return tuple(key.strip().encode() for key in raw.split(",") if key.strip())
