"""Contracts of the ``payments`` queue."""

from __future__ import annotations

import uuid

from pydantic import Field

from tasklane.contracts.base import Payload, TaskContract


class ProcessPaymentWebhook(Payload):
    payment_reference: str = Field(min_length=1, max_length=64)
    amount_paid: int = Field(ge=0, description="In the currency's smallest unit, as the provider counts it.")
    currency: str = Field(min_length=3, max_length=3)
    payment_provider: str = Field(min_length=1, max_length=20)
    event_id: uuid.UUID | None = Field(None, description="The stored webhook event this payment came in.")


class RedispatchPaymentEvents(Payload):
    """Takes no arguments: it finds stored events the broker never took."""


PROCESS_PAYMENT_WEBHOOK = TaskContract("payments.process_payment_webhook", ProcessPaymentWebhook)
REDISPATCH_PAYMENT_EVENTS = TaskContract("payments.redispatch_stored_events", RedispatchPaymentEvents)
