"""Payment providers behind one small interface: verify a webhook's signature, then read its event."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from tasklane.settings import Settings


class InvalidSignature(Exception):
    """The request is not from the provider: missing or wrong signature."""


class InvalidEvent(Exception):
    """A signed body that is not an event the provider sends: not JSON, or a field missing."""


@dataclass(frozen=True)
class ProviderEvent:
    event_type: str
    event_key: str  # unique per provider: a redelivery of the same event has the same key
    reference: str | None
    payload: dict[str, Any]
    payment: tuple[int, str] | None  # (amount in minor units, currency) when this confirms a payment


class PaymentProvider(Protocol):
    name: str

    @property
    def configured(self) -> bool: ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise ``InvalidSignature`` unless ``body`` is signed by the provider."""

    def parse(self, body: bytes) -> ProviderEvent:
        """Read a verified body; raise ``InvalidEvent`` naming what is wrong."""


class _PaystackData(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int | str | None = None
    reference: str
    amount: int | None = None
    currency: str | None = None


class _PaystackEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: str
    data: _PaystackData


class Paystack:
    """Paystack: ``X-Paystack-Signature`` is the hex HMAC-SHA512 of the raw body keyed with the secret key;
    ``charge.success`` confirms a payment, amounts are in the currency's smallest unit."""

    name = "paystack"
    signature_header = "x-paystack-signature"
    payment_events = frozenset({"charge.success"})

    def __init__(self, settings: Settings) -> None:
        self._secret = settings.paystack_secret_key

    @property
    def configured(self) -> bool:
        return self._secret is not None

    def sign(self, body: bytes) -> str:
        assert self._secret is not None
        return hmac.new(self._secret.get_secret_value().encode(), body, hashlib.sha512).hexdigest()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        signature = headers.get(self.signature_header)
        if not signature:
            raise InvalidSignature("missing X-Paystack-Signature header")
        if not hmac.compare_digest(self.sign(body), signature.strip().lower()):
            raise InvalidSignature("X-Paystack-Signature does not match the body")

    def parse(self, body: bytes) -> ProviderEvent:
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise InvalidEvent(f"body: not valid JSON ({exc})") from None
        try:
            event = _PaystackEvent.model_validate(document)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "body"
            raise InvalidEvent(f"{field}: {first['msg']}") from None
        data = event.data
        payment = None
        if event.event in self.payment_events:
            if data.amount is None or data.currency is None:
                missing = "data.amount" if data.amount is None else "data.currency"
                raise InvalidEvent(f"{missing}: Field required for {event.event}")
            payment = (data.amount, data.currency.upper())
        return ProviderEvent(
            event_type=event.event,
            event_key=f"{event.event}:{data.id if data.id is not None else data.reference}",
            reference=data.reference,
            payload=document,
            payment=payment,
        )


def providers(settings: Settings) -> dict[str, PaymentProvider]:
    return {"paystack": Paystack(settings)}
