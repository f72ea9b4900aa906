"""Payment providers behind one small interface: verify a webhook's signature, then read its event."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tasklane_api.settings import ApiSettings


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
    event_model: type[BaseModel]  # the fields of its events that are read, for the API reference

    def __init__(self, settings: ApiSettings) -> None: ...

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
    """Paystack signs the raw body with the secret key: ``X-Paystack-Signature`` is either the hex
    HMAC-SHA512 of the body, or the timestamped form ``t=<unix>,v1=<kid>:<hex>`` whose HMAC covers
    ``"<t>.<body>"``, refused once older than the tolerance so a captured delivery cannot be replayed.
    ``charge.success`` confirms a payment; amounts are in the currency's smallest unit."""

    name = "paystack"
    title = "Paystack"
    description = (
        "Paystack signs the raw body: `X-Paystack-Signature` is its hex HMAC-SHA512 keyed with the secret "
        'key, or `t=<unix time>,v1=<key id>:<hex HMAC-SHA512 of "<t>.<body>">`, accepted for '
        "`TASKLANE_WEBHOOK_TIMESTAMP_TOLERANCE` seconds. Several secret keys may be configured while one "
        "is rotated. `charge.success` confirms a credit purchase (amount in the currency's smallest unit); "
        "other events are recorded, not processed."
    )
    signature_header = "x-paystack-signature"
    payment_events = frozenset({"charge.success"})
    event_model: type[BaseModel] = _PaystackEvent

    def __init__(self, settings: ApiSettings) -> None:
        self._secrets = settings.paystack_secrets
        self._tolerance = settings.webhook_timestamp_tolerance

    @property
    def configured(self) -> bool:
        return bool(self._secrets)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        header = headers.get(self.signature_header, "").strip()
        if not header:
            raise InvalidSignature("missing X-Paystack-Signature header")
        if header.startswith("t="):
            timestamp, signatures = self._timestamped(header)
            message = timestamp.encode() + b"." + body
        else:
            signatures, message = [header], body
        if not any(self._matches(message, signature) for signature in signatures):
            raise InvalidSignature("X-Paystack-Signature does not match the body")

    def _timestamped(self, header: str) -> tuple[str, list[str]]:
        """The ``t`` and the ``v1`` signatures (without their key ids) of ``t=...,v1=kid:hex,...``."""
        fields = [part.strip().partition("=") for part in header.split(",")]
        timestamp = next((value for key, _, value in fields if key == "t"), "")
        signatures = [value.rpartition(":")[2] for key, _, value in fields if key == "v1"]
        # Ten digits reach the year 2286; a longer number is no clock's and would overflow the comparison.
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 10) or not signatures:
            raise InvalidSignature("X-Paystack-Signature: expected t=<unix time>,v1=<key id>:<hex signature>")
        if abs(time.time() - int(timestamp)) > self._tolerance:
            raise InvalidSignature(
                f"X-Paystack-Signature: timestamp {timestamp} is outside the {self._tolerance}s tolerance "
                "(a replayed delivery, or a clock far off)"
            )
        return timestamp, signatures

    def _matches(self, message: bytes, signature: str) -> bool:
        # Bytes, not str: compare_digest refuses non-ASCII text, and the header is the sender's to choose.
        # Every key is tried without stopping early, so timing tells nothing about which one matched.
        given = signature.strip().lower().encode(errors="replace")
        results = [
            hmac.compare_digest(hmac.new(key, message, hashlib.sha512).hexdigest().encode(), given)
            for key in self._secrets
        ]
        return any(results)

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


def providers(settings: ApiSettings) -> dict[str, PaymentProvider]:
    return {provider.name: provider(settings) for provider in PROVIDERS}
