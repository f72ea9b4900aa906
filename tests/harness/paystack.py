"""Playing Paystack: the one party that cannot run here. Bodies have the shape Paystack documents for
``charge.success`` and are signed as Paystack signs them (hex HMAC-SHA512 of the raw body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from typing import Any

from tests.harness.stack import PAYSTACK_SECRET


def charge_success(
    reference: str, amount: int, currency: str = "NGN", *, transaction_id: int | None = None
) -> bytes:
    event = {
        "event": "charge.success",
        "data": {
            "id": transaction_id or random.randint(10**8, 10**9),
            "domain": "test",
            "status": "success",
            "reference": reference,
            "amount": amount,
            "message": None,
            "gateway_response": "Successful",
            "paid_at": "2026-11-23T10:04:05.000Z",
            "created_at": "2026-11-23T10:03:50.000Z",
            "channel": "card",
            "currency": currency,
            "fees": 3000,
            "customer": {"id": 84312, "email": "owner@shop.test", "customer_code": "CUS_xnxdt6s1zg1f4nx"},
            "authorization": {"authorization_code": "AUTH_8dfhjjdt", "card_type": "visa", "last4": "4081"},
        },
    }
    return json.dumps(event).encode()


def other_event(event_type: str, reference: str) -> bytes:
    return json.dumps(
        {"event": event_type, "data": {"id": random.randint(10**8, 10**9), "reference": reference}}
    ).encode()


def sign(body: bytes, secret: str = PAYSTACK_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha512).hexdigest()


def headers(body: bytes, **extra: Any) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Paystack-Signature": sign(body), **extra}
