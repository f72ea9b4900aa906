"""Schemathesis hooks for fuzzing Tasklane (loaded through ``SCHEMATHESIS_HOOKS``).

Webhooks are authenticated by a signature over the raw body, which schemathesis cannot make: sign each
generated body as Paystack would, so fuzzing reaches past the signature check into parsing and storage.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.core import NotSet

from tests.harness import paystack


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
    if case.operation.path.startswith("/v1/webhooks/") and not isinstance(case.body, bytes | NotSet):
        raw = json.dumps(case.body).encode()
        case.body = raw
        case.headers = {**(case.headers or {}), "X-Paystack-Signature": paystack.sign(raw)}
