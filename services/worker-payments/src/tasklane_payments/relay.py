"""The payments relay: moves stored webhook events onto the payments queue.

Each payments worker runs one in its main process (a Celery bootstep, started after the pool). It wakes
as soon as PostgreSQL announces a new event (LISTEN/NOTIFY, fired by a trigger on insert), and sweeps every
``TASKLANE_PAYMENT_RELAY_INTERVAL`` seconds in any case, so an event that arrived while the broker was
down is queued once it is back. Events are claimed with ``FOR UPDATE SKIP LOCKED`` and stay locked until
their tasks are published and they are marked ``queued``: two relays never publish the same event, and a
relay that dies mid-batch leaves its events ``received`` for the next sweep (the task is idempotent).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import bootsteps
from sqlalchemy import Table, and_, func, select, update
from sqlalchemy.orm import Session

from tasklane.contracts.payments import PROCESS_PAYMENT_WEBHOOK, ProcessPaymentWebhook
from tasklane.db.engine import Database
from tasklane.db.models import CreditPurchase, PaymentEventStatus
from tasklane.errors import BrokerUnavailable
from tasklane.payment_events import EVENTS, RELAY_CHANNEL, mark_outcome
from tasklane.publishing import record_task, send
from tasklane.telemetry.metrics import Scraped
from tasklane.telemetry.tracing import continued, link_to, tracer
from tasklane.worker import WorkerRuntime
from tasklane_payments.settings import PaymentsSettings

log = logging.getLogger(__name__)

PURCHASES: Table = CreditPurchase.__table__  # type: ignore[assignment]
BATCH = 100
_WAIT_SLICE = 1.0  # seconds: how quickly the relay notices it should stop


class PaymentRelay:
    def __init__(self, runtime: WorkerRuntime[PaymentsSettings]) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def dispatch_received(self) -> int:
        """Publish up to ``BATCH`` stored events' tasks; returns how many were queued."""
        queued = 0
        with self.runtime.database.session() as session:
            e, p = EVENTS.c, PURCHASES.c
            claimed = session.execute(
                select(
                    e.id, e.provider, e.reference, e.amount_minor, e.currency, e.traceparent, p.business_id
                )
                .outerjoin(PURCHASES, and_(p.reference == e.reference, p.provider == e.provider))
                .where(e.status == PaymentEventStatus.RECEIVED)
                .order_by(e.received_at)
                .limit(BATCH)
                .with_for_update(of=EVENTS, skip_locked=True)
            ).all()
            if not claimed:
                return 0
            # One span for the sweep, linked to each webhook it relays; each event's task is published in
            # its webhook's own trace, so that trace goes on through the payment and its receipt.
            links = [link for event in claimed if (link := link_to(event.traceparent)) is not None]
            batch_span = tracer.start_span(
                "payments.relay", links=links, attributes={"tasklane.events": len(claimed)}
            )
            try:
                for event in claimed:
                    if event.business_id is None or event.amount_minor is None or event.currency is None:
                        note = f"no credit purchase has reference {event.reference}"
                        session.execute(mark_outcome(event.id, PaymentEventStatus.IGNORED, note))
                        continue
                    # A savepoint: if the broker refuses the message, its record goes too, rather than
                    # stay behind saying "queued" for a message that was never sent.
                    with session.begin_nested(), continued(event.traceparent):
                        self._queue(session, event)
                    queued += 1
            except BrokerUnavailable as exc:
                log.warning("payments relay: broker unavailable, %d events wait for the next sweep (%s)",
                            len(claimed) - queued, exc)  # fmt: skip
            finally:
                session.commit()  # what went out is marked, even if the broker failed part-way
                batch_span.end()
        return queued

    def _queue(self, session: Session, event: Any) -> None:
        payload = ProcessPaymentWebhook(
            payment_reference=event.reference,
            amount_paid=event.amount_minor,
            currency=event.currency,
            payment_provider=event.provider,
            event_id=event.id,
        )
        outbound = record_task(session, PROCESS_PAYMENT_WEBHOOK, payload, business_id=event.business_id)
        # Sent while the event stays locked; the record commits with the event's mark, and a worker that
        # starts the task first waits for that commit.
        session.flush()
        send(self.runtime.celery, outbound)
        session.execute(
            update(EVENTS)
            .where(EVENTS.c.id == event.id)
            .values(
                status=PaymentEventStatus.QUEUED,
                task_id=outbound.id,
                dispatched_at=outbound.record.dispatched_at,
            )
        )

    def drain(self) -> int:
        total = 0
        while (queued := self.dispatch_received()) == BATCH:
            total += queued
        return total + queued

    @contextmanager
    def _notifications(self) -> Iterator[Any]:
        """A connection LISTENing on the relay channel (PostgreSQL), or None where there is no such thing."""
        if not self.runtime.database.is_postgresql:
            yield None
            return
        raw = self.runtime.database.engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            driver.autocommit = True
            driver.execute(f"LISTEN {RELAY_CHANNEL}")
            yield driver
        finally:
            raw.invalidate()  # never hand a LISTENing connection back to the pool

    def _wait(self, listener: Any) -> None:
        """Until a notification arrives, the sweep interval passes, or the relay is stopped."""
        waited = 0.0
        interval = self.runtime.settings.payment_relay_interval
        while waited < interval and not self._stop.is_set():
            step = min(_WAIT_SLICE, interval - waited)
            if listener is None:
                self._stop.wait(step)
            elif any(True for _ in listener.notifies(timeout=step, stop_after=1)):
                return
            waited += step

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._notifications() as listener:
                    while not self._stop.is_set():
                        self.drain()
                        self._wait(listener)
            except Exception:
                log.exception("payments relay failed; restarting in a second")
                self._stop.wait(1)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="tasklane-payments-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


def relay_bootstep(relay: PaymentRelay) -> type[bootsteps.StartStopStep]:
    """A worker bootstep running ``relay`` in the worker's main process, started after the pool has
    forked its children (a process with threads should not fork)."""

    class PaymentRelayStep(bootsteps.StartStopStep):  # type: ignore[misc]  # celery ships no type hints
        requires = {"celery.worker.components:Pool"}

        def start(self, worker: Any) -> None:
            relay.start()

        def stop(self, worker: Any) -> None:
            relay.stop()

    return PaymentRelayStep


WAITING = (PaymentEventStatus.RECEIVED, PaymentEventStatus.QUEUED, PaymentEventStatus.FAILED)


def waiting_events(database: Database) -> Scraped:
    """``tasklane_payment_events{status}``: stored events still waiting (``received``: for the relay,
    ``queued``: for a worker) and those that ``failed``, read at each scrape. Processed and ignored events
    only grow, and are counted as they happen instead (``tasklane_payments_applied_total``,
    ``tasklane_webhook_events_total``)."""

    def read() -> dict[tuple[str, ...], float]:
        with database.session() as session:
            counts: dict[str, int] = dict(
                session.execute(
                    select(EVENTS.c.status, func.count())
                    .where(EVENTS.c.status.in_(WAITING))
                    .group_by(EVENTS.c.status)
                ).all()
            )
        return {(status.value,): float(counts.get(status, 0)) for status in WAITING}

    return Scraped(
        "tasklane_payment_events", "Stored webhook events waiting or failed, by status.", ("status",), read
    )
