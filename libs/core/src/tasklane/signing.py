"""Signed, expiring download links: a browser can fetch an artifact without the tenant's API key.

The signature is an HMAC-SHA256 over the artifact id and the expiry, keyed with the signing secret, so a
link cannot be re-pointed at another artifact or given a later expiry without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import datetime
from urllib.parse import urlencode

from tasklane.settings import Settings


def _signature(settings: Settings, artifact_id: uuid.UUID, expires: int) -> str:
    message = f"artifact:{artifact_id}:{expires}".encode()
    return hmac.new(settings.signing_key, message, hashlib.sha256).hexdigest()


def artifact_url(
    settings: Settings, artifact_id: uuid.UUID, *, expires_at: datetime, base_url: str | None = None
) -> str:
    """A signed download link. ``base_url`` is where the client reached the API (for API answers); emails,
    which have no request, use ``TASKLANE_PUBLIC_BASE_URL``."""
    expires = int(expires_at.timestamp())
    query = urlencode({"expires": expires, "signature": _signature(settings, artifact_id, expires)})
    base = (base_url or str(settings.public_base_url)).rstrip("/")
    return f"{base}/v1/artifacts/{artifact_id}?{query}"


def signature_matches(settings: Settings, artifact_id: uuid.UUID, *, expires: int, signature: str) -> bool:
    """True when ``signature`` was made with the signing secret for this artifact and expiry.

    Compared in constant time, so response timing reveals nothing about a correct signature; as bytes,
    because ``compare_digest`` refuses non-ASCII text and the link's query is the client's to choose.
    """
    expected = _signature(settings, artifact_id, expires).encode()
    return hmac.compare_digest(expected, signature.encode(errors="replace"))


def signature_valid(
    settings: Settings, artifact_id: uuid.UUID, *, expires: int, signature: str, now: datetime
) -> bool:
    """True when the signature matches and the link has not expired."""
    return (
        signature_matches(settings, artifact_id, expires=expires, signature=signature)
        and now.timestamp() < expires
    )
