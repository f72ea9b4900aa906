"""Taking in a verified webhook event: one INSERT, then the answer.

The event is the payments outbox: stored ``received`` (or ``ignored``, with why), it is picked up by the
payments service's relay, which publishes its task; a PostgreSQL trigger wakes the relay at once. The
provider's answer therefore depends on PostgreSQL alone, and a broker outage delays processing without
losing anything or slowing the answer.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, String, Table, Uuid, bindparam, case, exists, literal, null, select, true
from sqlalchemy.dialects import postgresql, sqlite

from tasklane.db.base import JSONType, UTCDateTime, utcnow
from tasklane.db.engine import Database
from tasklane.db.models import CreditPurchase, PaymentEventStatus
from tasklane.payment_events import EVENTS
from tasklane_api.payments.providers import ProviderEvent

PURCHASES: Table = CreditPurchase.__table__  # type: ignore[assignment]


class Intake(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class _Statements:
    """Built once per dialect and executed with parameters: the webhook path builds no SQL per request.

    One statement stores the event and decides, from whether its reference is one of our purchases, if it
    is ``received`` (for the relay) or ``ignored`` (recorded, with the reason).
    """

    COLUMNS = (
        "id", "provider", "event_key", "event_type", "reference", "amount_minor", "currency", "payload",
        "status", "note", "received_at",
    )  # fmt: skip

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        ours = exists().where(
            PURCHASES.c.reference == bindparam("reference", type_=String),
            PURCHASES.c.provider == bindparam("provider", type_=String),
        )
        received, ignored = (
            literal(PaymentEventStatus.RECEIVED.value),
            literal(PaymentEventStatus.IGNORED.value),
        )
        row = select(
            bindparam("id", type_=Uuid()),
            bindparam("provider", type_=String),
            bindparam("event_key", type_=String),
            bindparam("event_type", type_=String),
            bindparam("reference", type_=String),
            bindparam("amount_minor", type_=BigInteger),
            bindparam("currency", type_=String),
            bindparam("payload", type_=JSONType),
            case(
                (bindparam("payment", type_=String) == "yes", case((ours, received), else_=ignored)),
                else_=ignored,
            ),
            case(
                (bindparam("payment", type_=String) != "yes", bindparam("not_processed", type_=String)),
                (ours, null()),
                else_=bindparam("unknown_reference", type_=String),
            ),
            bindparam("received_at", type_=UTCDateTime()),
        ).where(true())  # SQLite needs a WHERE to tell INSERT ... SELECT ... ON CONFLICT apart
        self.store = (
            insert(EVENTS)
            .from_select(self.COLUMNS, row)
            .on_conflict_do_nothing(index_elements=[EVENTS.c.provider, EVENTS.c.event_key])
            .returning(EVENTS.c.status)
        )


@cache
def _statements(dialect: str) -> _Statements:
    return _Statements(dialect)


def take_in(database: Database, provider: str, event: ProviderEvent) -> Intake:
    amount, currency = event.payment if event.payment is not None else (None, None)
    params: dict[str, Any] = {
        "id": uuid.uuid4(),
        "provider": provider,
        "event_key": event.event_key,
        "event_type": event.event_type,
        "reference": event.reference,
        "amount_minor": amount,
        "currency": currency,
        "payload": event.payload,
        "payment": "yes" if event.payment is not None else "no",
        "not_processed": f"{event.event_type} events are recorded, not processed",
        "unknown_reference": f"no credit purchase has reference {event.reference}",
        "received_at": utcnow(),
    }
    with database.engine.connect() as connection:
        status = connection.execute(
            _statements(database.engine.dialect.name).store, params
        ).scalar_one_or_none()
        connection.commit()
    if status is None:
        return Intake.DUPLICATE
    return Intake.QUEUED if status == PaymentEventStatus.RECEIVED else Intake.IGNORED
