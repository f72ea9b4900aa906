"""Storing a batch of webhook events with one statement, answering which of them were new.

Each event is stored ``received`` when it confirms a payment for one of our purchases (the payments relay
then publishes it), otherwise ``ignored`` with the reason. An event already stored, by this batch or any
other process, conflicts on (provider, event_key) and is left out of the answer: a duplicate.

PostgreSQL: one ``INSERT ... SELECT FROM unnest(...)`` whose text never changes with the batch size, run
on a psycopg asyncio connection the store keeps, in autocommit (one statement is atomic on its own): per
batch that is one round trip and a statement the server has prepared. It is SQL rather than SQLAlchemy
Core because this is the provider-facing hot path: building, cache-keying and compiling the equivalent
Core statement cost several times more CPU per batch than the database spent running it.

SQLite, the local development default: the portable Core statements on the ordinary engine, in a thread.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import psycopg
from sqlalchemy import (
    Table,
    select,
    tuple_,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from tasklane.db.engine import Database
from tasklane.db.models import CreditPurchase, PaymentEventStatus
from tasklane.payment_events import EVENTS
from tasklane_api.payments.providers import ProviderEvent
from tasklane_api.settings import ApiSettings

PURCHASES: Table = CreditPurchase.__table__  # type: ignore[assignment]
RECEIVED, IGNORED = PaymentEventStatus.RECEIVED, PaymentEventStatus.IGNORED
NOT_PROCESSED = " events are recorded, not processed"
UNKNOWN_REFERENCE = "no credit purchase has reference "

Key = tuple[str, str]  # (provider, event_key)
Events = Sequence[tuple[str, ProviderEvent, str | None]]  # (provider, event, traceparent), distinct keys


class StoreUnavailable(Exception):
    """The database could not be reached or did not answer: nothing from the batch is known stored."""


class EventRefused(Exception):
    """The database refused the data itself; storing the same events again would fail again."""


class EventStore(Protocol):
    async def store(self, events: Events, now: datetime) -> dict[Key, PaymentEventStatus]:
        """Insert the events; return the status of each one that was new."""

    async def close(self) -> None: ...


def _new_statuses(rows: Any) -> dict[Key, PaymentEventStatus]:
    return {(provider, key): PaymentEventStatus(status) for provider, key, status in rows}


# Each column of the batch travels as one array, sent in binary (``%b``): no quoting or escaping of the
# events' JSON bodies on the way, and PostgreSQL unnests them side by side. The purchase lookup is a LATERAL
# with LIMIT so the planner must probe the reference index once per event; given an EXISTS it may guess
# the batch is large and hash the whole purchases table instead. Only constants are formatted in.
_INSERT_SQL = f"""
INSERT INTO {EVENTS.name} (
    id, provider, event_key, event_type, reference, amount_minor, currency, payload, status, note,
    received_at, traceparent
)
SELECT
    gen_random_uuid(), e.provider, e.event_key, e.event_type, e.reference, e.amount_minor, e.currency,
    e.payload::jsonb,
    CASE WHEN e.payment AND p.found THEN '{RECEIVED.value}' ELSE '{IGNORED.value}' END,
    CASE
        WHEN NOT e.payment THEN e.event_type || '{NOT_PROCESSED}'
        WHEN p.found IS NULL THEN '{UNKNOWN_REFERENCE}' || e.reference
    END,
    %(received_at)s, e.traceparent
FROM unnest(
    %(provider)b::text[], %(event_key)b::text[], %(event_type)b::text[], %(reference)b::text[],
    %(amount_minor)b::int8[], %(currency)b::text[], %(payload)b::text[], %(payment)b::bool[],
    %(traceparent)b::text[]
) AS e(provider, event_key, event_type, reference, amount_minor, currency, payload, payment, traceparent)
LEFT JOIN LATERAL (
    SELECT true AS found FROM {PURCHASES.name} c
    WHERE c.provider = e.provider AND c.reference = e.reference
    LIMIT 1
) p ON true
ON CONFLICT (provider, event_key) DO NOTHING
RETURNING provider, event_key, status
"""  # noqa: S608


def _batch_columns(events: Events) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {
        name: []
        for name in (
            "provider",
            "event_key",
            "event_type",
            "reference",
            "amount_minor",
            "currency",
            "payload",
            "traceparent",
        )
    }
    payment = []
    for provider, event, traceparent in events:
        amount, currency = event.payment if event.payment is not None else (None, None)
        columns["traceparent"].append(traceparent)
        columns["provider"].append(provider)
        columns["event_key"].append(event.event_key)
        columns["event_type"].append(event.event_type)
        columns["reference"].append(event.reference)
        columns["amount_minor"].append(amount)
        columns["currency"].append(currency)
        columns["payload"].append(event.document)  # the verified body, as received
        payment.append(event.payment is not None)
    return {**columns, "payment": payment}


class PostgresEventStore:
    def __init__(self, settings: ApiSettings) -> None:
        url = make_url(settings.effective_database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connection: psycopg.AsyncConnection[Any] | None = None

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                self._conninfo,
                autocommit=True,
                connect_timeout=5,
                application_name=os.path.basename(sys.argv[0])[:60],
            )
        return self._connection

    async def _execute(
        self, connection: psycopg.AsyncConnection[Any], params: dict[str, Any]
    ) -> dict[Key, PaymentEventStatus]:
        cursor = await connection.execute(_INSERT_SQL, params)
        return _new_statuses(await cursor.fetchall())

    async def store(self, events: Events, now: datetime) -> dict[Key, PaymentEventStatus]:
        params = {**_batch_columns(events), "received_at": now}
        try:
            kept = await self._connect()
            try:
                return await self._execute(kept, params)
            except psycopg.OperationalError:
                if not kept.closed:
                    raise
                # The kept connection had died (a database restart, say). Storing again on a fresh one is
                # safe: events the lost statement did store come back as duplicates, which is still 200.
                return await self._execute(await self._connect(), params)
        except psycopg.OperationalError as exc:
            await self.close()
            raise StoreUnavailable(str(exc).strip()) from exc
        except (psycopg.DataError, psycopg.IntegrityError) as exc:
            raise EventRefused(str(exc).strip()) from exc

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


class PortableEventStore:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._insert = (
            sqlite.insert(EVENTS)
            .on_conflict_do_nothing(index_elements=[EVENTS.c.provider, EVENTS.c.event_key])
            .returning(EVENTS.c.provider, EVENTS.c.event_key, EVENTS.c.status)
        )

    async def store(self, events: Events, now: datetime) -> dict[Key, PaymentEventStatus]:
        try:
            return await asyncio.to_thread(self._store, events, now)
        except OperationalError as exc:
            raise StoreUnavailable(str(exc.orig)) from exc
        except DBAPIError as exc:
            raise EventRefused(str(exc.orig)) from exc

    def _store(self, events: Events, now: datetime) -> dict[Key, PaymentEventStatus]:
        claimed = {
            (provider, event.reference)
            for provider, event, _ in events
            if event.payment is not None and event.reference is not None
        }
        with self._database.engine.begin() as connection:
            ours: set[tuple[str, str]] = set()
            if claimed:
                pair = tuple_(PURCHASES.c.provider, PURCHASES.c.reference)
                found = connection.execute(
                    select(PURCHASES.c.provider, PURCHASES.c.reference).where(pair.in_(claimed))
                )
                ours = {(provider, reference) for provider, reference in found}
            rows = []
            for provider, event, traceparent in events:
                amount, currency = event.payment if event.payment is not None else (None, None)
                if event.payment is None:
                    status, note = IGNORED, event.event_type + NOT_PROCESSED
                elif (provider, event.reference) not in ours:
                    status, note = IGNORED, f"{UNKNOWN_REFERENCE}{event.reference}"
                else:
                    status, note = RECEIVED, None
                rows.append(
                    {
                        "id": uuid.uuid4(),
                        "provider": provider,
                        "event_key": event.event_key,
                        "event_type": event.event_type,
                        "reference": event.reference,
                        "amount_minor": amount,
                        "currency": currency,
                        "payload": json.loads(event.document),
                        "status": status,
                        "note": note,
                        "received_at": now,
                        "traceparent": traceparent,
                    }
                )
            return _new_statuses(connection.execute(self._insert, rows))

    async def close(self) -> None:
        """Nothing of its own: it borrows the API's engine."""


def event_store(settings: ApiSettings, database: Database) -> EventStore:
    if database.is_postgresql:
        return PostgresEventStore(settings)
    return PortableEventStore(database)
