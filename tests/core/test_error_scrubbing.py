"""What leaves for Sentry: an event as the SDK builds it, with secrets where real failures put them (request
headers and body, a frame's local variables, extra context, a message), passed through ``before_send``."""

from __future__ import annotations

import json
from typing import Any

from tasklane.telemetry.errors import FILTERED, scrub

API_KEY = "tl_live_4f9a2c1e8b7d6a5f4e3d2c1b"
PAYSTACK_KEY = "sk_live_9f8e7d6c5b4a39281706"
SIGNATURE = "ab12" * 32
PASSWORDS = ("smtp-pass-that-must-not-leave", "pg-pass-that-must-not-leave")


def event() -> dict[str, Any]:
    return {
        "message": f"could not reach postgresql+psycopg://tasklane:{PASSWORDS[1]}@db:5432/tasklane",
        "request": {
            "url": "https://api.example.com/v1/webhooks/paystack",
            "headers": {
                "Authorization": f"Bearer {API_KEY}",
                "X-Paystack-Signature": SIGNATURE,
                "Content-Type": "application/json",
            },
            "data": '{"event": "charge.success"}',
            "cookies": {"session": "abc"},
        },
        "exception": {
            "values": [
                {
                    "type": "SMTPAuthenticationError",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "send",
                                "vars": {
                                    "smtp_password": PASSWORDS[0],
                                    "rendered": "Dear Ada, your Secret Sauce is low",
                                    "recipients": ["ada@example.com"],
                                    "attempt": 3,
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "extra": {"settings": {"paystack_secret_key": PAYSTACK_KEY, "environment": "production"}},
        "tags": {"task_id": "3f0c", "tenant_id": "9b1e"},
    }


def test_before_send_drops_every_secret_and_every_customer_detail_but_keeps_what_explains_the_error() -> None:
    sent = json.dumps(scrub(event()))

    for secret in (API_KEY, PAYSTACK_KEY, SIGNATURE, *PASSWORDS, "Secret Sauce", "ada@example.com"):
        assert secret not in sent, secret
    assert '"cookies"' not in sent and "charge.success" not in sent, "bodies and cookies are dropped"
    scrubbed = scrub(event())
    assert scrubbed["request"]["headers"]["X-Paystack-Signature"] == FILTERED
    assert scrubbed["request"]["headers"]["Authorization"] == "Bearer tl_[Filtered]"
    assert "postgresql+psycopg://tasklane:[Filtered]@db:5432" in scrubbed["message"]
    # What an on-call needs stays: where, what, which attempt, which task and tenant.
    frame = scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert (frame["function"], frame["vars"]["attempt"]) == ("send", 3)
    assert scrubbed["tags"] == {"task_id": "3f0c", "tenant_id": "9b1e"}
    assert scrubbed["extra"]["settings"]["environment"] == "production"
    assert scrubbed["request"]["headers"]["Content-Type"] == "application/json"
