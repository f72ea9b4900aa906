"""API keys: random, shown once, stored as a SHA-256 digest and looked up by it."""

from __future__ import annotations

import hashlib
import secrets
from typing import NamedTuple

KEY_PREFIX = "tl_"


class NewApiKey(NamedTuple):
    key: str
    prefix: str
    digest: str


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> NewApiKey:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(key=key, prefix=key[:10], digest=hash_api_key(key))
