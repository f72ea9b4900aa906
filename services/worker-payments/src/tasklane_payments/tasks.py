"""The payments queue's tasks."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Task
from sqlalchemy.exc import IntegrityError, OperationalError

from tasklane.contracts import (
    PROCESS_PAYMENT_WEBHOOK,
    REDISPATCH_PAYMENT_EVENTS,
    ProcessPaymentWebhook,
    RedispatchPaymentEvents,
)
from tasklane.db.models import PaymentEventStatus
from tasklane.errors import BrokerUnavailable, PermanentTaskError
from tasklane.payment_events import mark_outcome
from tasklane.publishing import dispatch
from tasklane.worker import WorkerRuntime
from tasklane_payments.crediting import Outcome, apply_payment
from tasklane_payments.relay import PaymentRelay

log = logging.getLogger(__name__)


def register_all(runtime: WorkerRuntime, relay: PaymentRelay) -> None:
    database = runtime.database

    def mark_event(event_id: uuid.UUID | None, status: PaymentEventStatus, note: str | None = None) -> None:
        if event_id is not None:
            with database.transaction() as session:
                session.execute(mark_outcome(event_id, status, note))

    @runtime.task(
        PROCESS_PAYMENT_WEBHOOK,
        autoretry_for=(OperationalError,),
        retry_backoff=2,
        retry_backoff_max=60,
        retry_jitter=True,
        max_retries=10,
    )
    def process_payment_webhook(task: Task, payload: ProcessPaymentWebhook) -> dict[str, Any]:
        """Credit a confirmed payment to its purchase, once, and queue the receipt."""
        try:
            with database.transaction() as session:
                outcome, receipt = apply_payment(session, payload)
        except IntegrityError:
            # The ledger already holds this payment reference: another delivery credited it first.
            outcome, receipt = Outcome.ALREADY_CREDITED, None
        except PermanentTaskError as exc:
            mark_event(payload.event_id, PaymentEventStatus.FAILED, str(exc))
            raise
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
