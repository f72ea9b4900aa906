"""Stored payment events: the outbox between the webhook intake (API) and the payments relay (worker).

The API stores each event with one INSERT and answers; a PostgreSQL trigger notifies
``RELAY_CHANNEL``; the payments worker's relay claims ``received`` events, records and publishes their
tasks, and marks them ``queued``; the task marks them ``processed`` or ``failed``. Statements here are Core
statements on the table, cheaper than ORM bulk updates.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Table, update

from tasklane.db.models import PaymentEvent, PaymentEventStatus

EVENTS: Table = PaymentEvent.__table__  # type: ignore[assignment]
RELAY_CHANNEL = "tasklane_payment_events"


def mark_outcome(event_id: uuid.UUID, status: PaymentEventStatus, note: str | None) -> Any:
    return update(EVENTS).where(EVENTS.c.id == event_id).values(status=status, note=note)
