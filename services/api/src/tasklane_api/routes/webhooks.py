"""Payment-provider webhooks: no API key, the provider's signature over the raw body is the authentication."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from tasklane_api.deps import ResourcesDep
from tasklane_api.payments.intake import Intake, take_in
from tasklane_api.payments.providers import InvalidEvent, InvalidSignature
from tasklane_api.schemas.errors import ErrorResponse

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


class WebhookAccepted(BaseModel):
    status: Intake


async def _read_capped(request: Request, limit: int) -> bytes:
    too_large = HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post(
    "/{provider}",
    responses={
        200: {
            "description": "`queued`, `duplicate` (already received) or `ignored` (recorded, not processed)."
        },
        400: {"model": ErrorResponse, "description": "Signed, but not JSON or missing a field."},
        401: {"model": ErrorResponse, "description": "Missing or wrong signature; nothing stored."},
        404: {"model": ErrorResponse, "description": "Not a provider Tasklane knows."},
        413: {"model": ErrorResponse, "description": "Body larger than `TASKLANE_WEBHOOK_MAX_BYTES`."},
        503: {"model": ErrorResponse, "description": "The provider's secret is not configured."},
    },
)
async def receive_webhook(provider: str, request: Request, resources: ResourcesDep) -> WebhookAccepted:
    """Receive a payment provider's event (e.g. Paystack's `charge.success`); answered once stored."""
    handler = resources.payment_providers.get(provider)
    if handler is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"provider: no payment provider named {provider}")
    if not handler.configured:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{provider} webhooks are not configured")
    body = await _read_capped(request, resources.settings.webhook_max_bytes)
    try:
        handler.verify(body, request.headers)
    except InvalidSignature as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    try:
        event = handler.parse(body)
    except InvalidEvent as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    outcome = await run_in_threadpool(take_in, resources.database, handler.name, event)
    return WebhookAccepted(status=outcome)
