"""Schemathesis hooks for fuzzing Tasklane (loaded through ``SCHEMATHESIS_HOOKS``).

Two things the OpenAPI document cannot tell schemathesis:
- Webhooks are authenticated by a signature over the raw body: sign each generated body as Paystack would,
  so fuzzing reaches past the signature check into parsing and storage; every third one instead carries a
  hostile signature (non-ASCII, or a timestamp past any clock), which must be a 401, never a 500.
- A signed download link's `signature` is free text to the document; every other generated link gets a
  non-ASCII signature next to a valid `expires`, which must be a 403, never a 500.
The choice hangs on the generated value itself, so a seeded run makes the same requests every time.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

import schemathesis
from schemathesis.core import NotSet

from tests.harness import paystack

HOSTILE_SIGNATURES = ("\u00e9" * 128, "t=" + "9" * 400 + ",v1=k1:" + "f" * 128)


def _pick(value: bytes | str, every: int) -> int | None:
    """Deterministically, for one value in ``every``, which hostile variant to use."""
    digest = zlib.crc32(value.encode() if isinstance(value, str) else value)
    return digest // every % len(HOSTILE_SIGNATURES) if digest % every == 0 else None


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
    path = case.operation.path
    if path.startswith("/v1/webhooks/") and not isinstance(case.body, bytes | NotSet):
        raw = json.dumps(case.body).encode()
        case.body = raw
        hostile = _pick(raw, 3)
        signature = paystack.sign(raw) if hostile is None else HOSTILE_SIGNATURES[hostile]
        case.headers = {**(case.headers or {}), "X-Paystack-Signature": signature}
    elif (
        path == "/v1/artifacts/{artifact_id}"
        and isinstance(case.query, dict)
        and "signature" in case.query
        and _pick(str(case.query["signature"]), 2) is not None
    ):
        case.query = {**case.query, "expires": 4102444800, "signature": "\u00e9" * 64}
