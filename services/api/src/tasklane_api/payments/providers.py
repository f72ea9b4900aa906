"""Payment providers behind one small interface: verify a webhook's signature, then read its event."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

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
    document: str  # the verified body, a JSON object, stored as the event's payload
    payment: tuple[int, str] | None  # (amount in minor units, currency) when this confirms a payment


class PaymentProvider(Protocol):
    name: str
    title: str  # for documentation: "Paystack"
    description: str  # which events it sends and how they are signed, for the API reference

    def __init__(self, settings: Settings) -> None: ...

    @property
    def configured(self) -> bool: ...

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise ``InvalidSignature`` unless ``body`` is signed by the provider."""

    def parse(self, body: bytes) -> ProviderEvent:
        """Read a verified body; raise ``InvalidEvent`` naming what is wrong."""


class _PaystackData(BaseModel):
    # Only the fields read here are validated; the whole document is stored as the payload. They are
    # bounded as the columns that store them are, so an oversized value is a 400 naming it, not a 500.
    model_config = ConfigDict(extra="ignore")

    id: int | Annotated[str, Field(max_length=64)] | None = None
    reference: str = Field(min_length=1, max_length=64)
    amount: int | None = Field(None, ge=0, le=2**63 - 1)
    currency: str | None = Field(None, pattern="^[A-Za-z]{3}$")


class _PaystackEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: str = Field(min_length=1, max_length=100)
    data: _PaystackData


class Paystack:
    """Paystack: ``X-Paystack-Signature`` is the hex HMAC-SHA512 of the raw body keyed with the secret key;
    ``charge.success`` confirms a payment, amounts are in the currency's smallest unit."""

    name = "paystack"
    title = "Paystack"
    description = (
        "Paystack signs the raw body: `X-Paystack-Signature` is its hex HMAC-SHA512 keyed with the secret "
        "key. `charge.success` confirms a credit purchase (amount in the currency's smallest unit); other "
        "events are recorded, not processed."
    )
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
            document = body.decode()
            event = _PaystackEvent.model_validate_json(document)
        except UnicodeDecodeError as exc:
            raise InvalidEvent(f"body: not UTF-8 ({exc.reason})") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            if first["type"] == "json_invalid":
                reason = first["msg"].removeprefix("Invalid JSON: ")
                raise InvalidEvent(f"body: not valid JSON ({reason})") from None
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
            document=document,
            payment=payment,
        )


PROVIDERS: tuple[type[PaymentProvider], ...] = (Paystack,)


def providers(settings: Settings) -> dict[str, PaymentProvider]:
    return {provider.name: provider(settings) for provider in PROVIDERS}
