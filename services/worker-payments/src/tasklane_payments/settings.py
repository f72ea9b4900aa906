"""The payments worker's own settings."""

from __future__ import annotations

from pydantic import Field

from tasklane.settings import Settings


class PaymentsSettings(Settings):
    payment_relay_interval: float = Field(
        5.0,
        gt=0,
        description="Seconds between the payments relay's sweeps for stored events it has not queued yet "
        "(on PostgreSQL it also wakes at once on each new event).",
    )
