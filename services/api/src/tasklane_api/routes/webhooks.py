"""Payment-provider webhooks: no API key, the provider's signature over the raw body is the authentication."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response, status
from pydantic import BaseModel

from tasklane.telemetry.metrics import WEBHOOK_EVENTS
from tasklane_api.errors import RETRY_AFTER_SECONDS
from tasklane_api.payments.event_store import EventRefused
from tasklane_api.payments.intake import Intake, IntakeUnavailable
from tasklane_api.payments.providers import PROVIDERS, InvalidEvent, InvalidSignature
from tasklane_api.resources import Resources
from tasklane_api.schemas.errors import ErrorResponse
from tasklane_api.telemetry import answered, webhook_span

PREFIX = "/v1/webhooks"


class WebhookAccepted(BaseModel):
    status: Intake


# Providers retry on anything but a fast 2xx, so the answer is encoded once, not per request.
_ANSWERS = {outcome: WebhookAccepted(status=outcome).model_dump_json().encode() for outcome in Intake}


async def _read_capped(request: Request, limit: int) -> bytes:
    too_large = HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "`queued`, `duplicate` (already received) or `ignored` (recorded, not processed)."},
    400: {"model": ErrorResponse, "description": "Signed, but not JSON or missing a field."},
    401: {"model": ErrorResponse, "description": "Missing or wrong signature; nothing stored."},
    413: {"model": ErrorResponse, "description": "Body larger than `TASKLANE_WEBHOOK_MAX_BYTES`."},
    503: {
        "model": ErrorResponse,
        "description": "The provider's secret is not configured, or the event could not be stored "
        "(database unavailable or slower than `TASKLANE_WEBHOOK_STORE_TIMEOUT`): nothing is "
        "acknowledged, so the provider delivers it again.",
    },
}


async def receive_webhook(provider: str, request: Request) -> Response:
    # Not a dependency: this is the hottest route, and every dependency costs each request a resolution.
    resources: Resources = request.app.state.resources
    handler = resources.payment_providers[provider]
    if not handler.configured:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{provider} webhooks are not configured")
    body = await _read_capped(request, resources.settings.webhook_max_bytes)
    try:
        handler.verify(body, request.headers)
    except InvalidSignature as exc:
        WEBHOOK_EVENTS.labels(provider=provider, outcome="rejected").inc()
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    try:
        event = handler.parse(body)
    except InvalidEvent as exc:
        WEBHOOK_EVENTS.labels(provider=provider, outcome="rejected").inc()
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    try:
        outcome = await resources.intake.take_in(provider, event)
    except IntakeUnavailable as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            f"{exc}; nothing is acknowledged, deliver it again",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        ) from None
    except EventRefused as exc:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, f"body: the database refused the event ({exc})"
        ) from None
    WEBHOOK_EVENTS.labels(provider=provider, outcome=outcome.value).inc()
    return Response(_ANSWERS[outcome], media_type="application/json")


def _inlined(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON schema with its ``$defs`` inlined, to stand alone inside the OpenAPI document."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        return [inline(item) for item in node] if isinstance(node, list) else node

    return dict(inline(schema))


def install(app: FastAPI) -> None:
    """Add one route per provider to ``app`` itself, ahead of the routers, so the provider's request is
    matched first and without the per-request dispatch an included router adds (FastAPI 0.16x). A fixed
    path per provider, not ``/{provider}``: a path parameter costs every request its parsing, and fixed
    paths document each provider's endpoint on its own."""
    for provider in PROVIDERS:
        app.add_api_route(
            f"{PREFIX}/{provider.name}",
            _receiver(provider.name),
            methods=["POST"],
            response_model=WebhookAccepted,
            responses=_RESPONSES,
            tags=["webhooks"],
            name=f"receive_{provider.name}_webhook",
            summary=f"Receive a {provider.title} webhook",
            description=f"{provider.description} Answered once the event is stored.",
            # The body is read raw (the signature covers its exact bytes), so document what is read of it.
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _inlined(provider.event_model)}},
                }
            },
        )


def _receiver(provider: str) -> Callable[[Request], Awaitable[Response]]:
    route = f"{PREFIX}/{provider}"

    async def receive(request: Request) -> Response:
        with webhook_span(request.headers, route) as span:
            try:
                response = await receive_webhook(provider, request)
            except HTTPException as exc:
                answered(span, exc.status_code)
                raise
            answered(span, response.status_code)
            return response

    return receive
