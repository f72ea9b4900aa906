"""Taking in verified webhook events: stored durably in group commits, then answered.

An event is the payments outbox: stored ``received`` (or ``ignored``, with why), it is picked up by the
payments service's relay, which publishes its task; a PostgreSQL trigger wakes the relay at once. The
provider's answer therefore depends on the database alone, and a broker outage delays processing without
losing anything or slowing the answer.

Requests do not each borrow a thread and a pooled connection. They hand their event to one writer
coroutine per API process and wait on a future; the writer takes everything waiting (up to ``MAX_BATCH``),
stores it with one statement (see ``event_store``), and answers every request once that statement has
committed. Under light load a batch is one event and costs one round trip; under heavy load
the round trip and the commit are shared by the whole batch. Nothing here leaves the event loop, so the
webhook path pays for no thread hand-offs. No request is answered before its event is committed.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from enum import StrEnum

from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import PaymentEventStatus
from tasklane.telemetry.metrics import WEBHOOK_BATCH
from tasklane.telemetry.tracing import current_traceparent, link_to, tracer
from tasklane_api.payments.event_store import EventRefused, EventStore, Key, StoreUnavailable, event_store
from tasklane_api.payments.providers import ProviderEvent
from tasklane_api.settings import ApiSettings

log = logging.getLogger(__name__)

MAX_BATCH = 256


class Intake(StrEnum):
    QUEUED = "queued"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


class IntakeUnavailable(Exception):
    """The event was not confirmed stored (database unreachable, or too slow); the provider must retry."""


@dataclass(frozen=True)
class _Delivery:
    provider: str
    event: ProviderEvent
    future: asyncio.Future[Intake]
    traceparent: str | None  # the request's trace, stored with the event for the relay to continue

    @property
    def key(self) -> Key:
        return self.provider, self.event.event_key

    def settle(self, outcome: Intake | BaseException) -> None:
        if self.future.done():  # the request gave up waiting (and answered 503); the provider redelivers
            return
        if isinstance(outcome, BaseException):
            self.future.set_exception(outcome)
        else:
            self.future.set_result(outcome)


class EventIntake:
    def __init__(self, settings: ApiSettings, database: Database) -> None:
        self._timeout = settings.webhook_store_timeout
        self._store: EventStore = event_store(settings, database)
        self._queue: asyncio.Queue[_Delivery | None] | None = None
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._writer = asyncio.create_task(self._write_forever(), name="tasklane-webhook-intake")

    async def stop(self) -> None:
        """Store what is already handed over, then end the writer."""
        if self._writer is not None and self._queue is not None:
            self._queue.put_nowait(None)
            await self._writer
            self._writer = None
        await self._store.close()

    async def take_in(self, provider: str, event: ProviderEvent) -> Intake:
        """Store ``event``; return once it is committed. Raises ``IntakeUnavailable`` when the database
        is unreachable or slower than the timeout, ``EventRefused`` when it refuses this event."""
        if self._queue is None:
            raise RuntimeError("the webhook intake is not started")
        future: asyncio.Future[Intake] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Delivery(provider, event, future, current_traceparent()))
        try:
            async with asyncio.timeout(self._timeout):
                return await future
        except TimeoutError:
            raise IntakeUnavailable(f"the event was not stored within {self._timeout:g} s") from None

    async def _write_forever(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch, stopping = [first], False
            while len(batch) < MAX_BATCH and not self._queue.empty():
                delivery = self._queue.get_nowait()
                if delivery is None:
                    stopping = True
                    break
                batch.append(delivery)
            await self._write(batch)
            if stopping:
                return

    async def _write(self, batch: list[_Delivery]) -> None:
        # One span for the statement that stores the batch, linked to each request it answers (links are
        # built only for a span that is sampled: this runs for every delivery).
        with tracer.start_as_current_span(
            "webhook.store_batch", attributes={"tasklane.batch_size": len(batch)}
        ) as span:
            if span.is_recording():
                for delivery in batch:
                    if (link := link_to(delivery.traceparent)) is not None:
                        span.add_link(link.context)
            await self._write_batch(batch)

    async def _write_batch(self, batch: list[_Delivery]) -> None:
        try:
            outcomes: list[Intake | BaseException] = list(await self._store_batch(batch))
        except EventRefused as exc:
            if len(batch) > 1:
                # An event the database refuses must not fail the others it was batched with.
                for delivery in batch:
                    await self._write_batch([delivery])
                return
            log.error("the database refused a webhook event: %s", exc)
            outcomes = [exc]
        except StoreUnavailable as exc:
            log.error("could not store %d webhook event(s): %s", len(batch), exc)
            outcomes = [IntakeUnavailable(f"the database is unavailable ({exc})")] * len(batch)
        except Exception as exc:
            log.exception("could not store %d webhook event(s)", len(batch))
            outcomes = [exc] * len(batch)
        for delivery, outcome in zip(batch, outcomes, strict=True):
            delivery.settle(outcome)

    async def _store_batch(self, batch: list[_Delivery]) -> list[Intake]:
        """Only the first delivery of an event in the batch is inserted, so the rest, like redeliveries
        stored earlier or by another process, are duplicates."""
        first: dict[Key, _Delivery] = {}
        for delivery in batch:
            first.setdefault(delivery.key, delivery)
        WEBHOOK_BATCH.observe(len(batch))
        stored = await self._store.store(
            [(d.provider, d.event, d.traceparent) for d in first.values()], utcnow()
        )
        outcomes = []
        for delivery in batch:
            status = stored.get(delivery.key) if first[delivery.key] is delivery else None
            if status is None:
                outcomes.append(Intake.DUPLICATE)
            else:
                outcomes.append(Intake.QUEUED if status == PaymentEventStatus.RECEIVED else Intake.IGNORED)
        return outcomes
