"""The payments queue's tasks."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any

from celery import Task
from sqlalchemy.exc import IntegrityError

from tasklane.contracts.payments import (
    PROCESS_PAYMENT_WEBHOOK,
    REDISPATCH_PAYMENT_EVENTS,
    ProcessPaymentWebhook,
    RedispatchPaymentEvents,
)
from tasklane.db.models import PaymentEventStatus
from tasklane.errors import BrokerUnavailable, PermanentTaskError
from tasklane.payment_events import mark_outcome
from tasklane.publishing import dispatch
from tasklane.telemetry.metrics import CREDITS_APPLIED, PAYMENTS_APPLIED
from tasklane.worker import current_runtime
from tasklane_payments.crediting import Outcome, apply_payment
from tasklane_payments.relay import PaymentRelay, relay_bootstep, waiting_events
from tasklane_payments.settings import PaymentsSettings

log = logging.getLogger(__name__)

runtime = current_runtime(PaymentsSettings)
database = runtime.database
# The relay runs beside the pool, in the worker's main process, from start to shutdown.
relay = PaymentRelay(runtime)
runtime.celery.steps["worker"].add(relay_bootstep(relay))
runtime.collectors.append(waiting_events(database))


def mark_event(event_id: uuid.UUID | None, status: PaymentEventStatus, note: str | None = None) -> None:
    if event_id is not None:
        with database.transaction() as session:
            session.execute(mark_outcome(event_id, status, note))


@runtime.task(PROCESS_PAYMENT_WEBHOOK)
def process_payment_webhook(task: Task, payload: ProcessPaymentWebhook) -> dict[str, Any]:
    """Credit a confirmed payment to its purchase, once, and queue the receipt."""
    try:
        with database.transaction() as session:
            outcome, receipt, credits = apply_payment(session, payload)
    except IntegrityError:
        # The ledger already holds this payment reference: another delivery credited it first.
        outcome, receipt, credits = Outcome.ALREADY_CREDITED, None, Decimal(0)
    except PermanentTaskError as exc:
        mark_event(payload.event_id, PaymentEventStatus.FAILED, str(exc))
        raise
    PAYMENTS_APPLIED.labels(outcome=outcome.value).inc()
    CREDITS_APPLIED.inc(float(credits))
    mark_event(
        payload.event_id, PaymentEventStatus.PROCESSED, None if outcome == Outcome.CREDITED else outcome
    )
    if receipt is not None:
        try:
            with database.session() as session:
                dispatch(session, runtime.celery, receipt)
        except BrokerUnavailable:
            log.warning("receipt %s stays queued until the broker is back", receipt.id)
    return {"outcome": outcome, "payment_reference": payload.payment_reference}


@runtime.task(REDISPATCH_PAYMENT_EVENTS)
def redispatch_stored_events(task: Task, payload: RedispatchPaymentEvents) -> dict[str, int]:
    """Queue stored payment events the relay has not queued yet (a sweep on demand or from beat)."""
    return {"requeued": relay.drain()}
