"""The API's share of telemetry: a tenant scope around each request (for logs and error reports), the
request metrics (prometheus-fastapi-instrumentator's names, counted per worker and served by gunicorn's
master) and the request spans (FastAPI's own OpenTelemetry support), each only when it is switched on.

The webhook routes, the provider-facing hot path, start their server span themselves (``webhook_span``) and
FastAPI's telemetry never sees those requests, nor the probes (``Api``): FastAPI's per-request telemetry
cost that path about a quarter of its throughput even with nothing sampled, the route's own span at 10%
sampled costs it about an eighth (`make bench-webhooks`).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from tasklane.telemetry.context import tenant_scope
from tasklane.telemetry.tracing import tracer
from tasklane_api.settings import ApiSettings

# Probes are polled every few seconds: neither traced nor counted.
UNOBSERVED = ("/healthz", "/readyz")
WEBHOOKS = "/v1/webhooks/"
# Seconds: from a webhook's few milliseconds to a long-poll's `?wait=`.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_PROPAGATOR = TraceContextTextMapPropagator()


class TenantScope:
    """Opens a tenant scope per request; authentication fills it in."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with tenant_scope():
            await self.app(scope, receive, send)


def untraced(scope: MutableMapping[str, Any]) -> bool:
    """Requests FastAPI's telemetry leaves alone: the probes, and the webhooks (see ``webhook_span``)."""
    path: str = scope["path"]
    return path in UNOBSERVED or path.startswith(WEBHOOKS)


# FastAPI's request spans: the server span only (an operation span per dependency and endpoint would triple
# the spans of every request), no OpenTelemetry metrics or logs (Prometheus and the JSON logs have those).
FASTAPI_TELEMETRY: TelemetryConfig = {"metrics": False, "logs": False, "operation_spans": False}


class Api(FastAPI):
    """FastAPI, with the ``untraced`` requests passed by its telemetry untouched.

    Its ``exclude`` option leaves a request untraced only after the checks FastAPI makes on every request
    (is telemetry configured, a walk of the middleware stack, a context attached and detached): several µs,
    a twentieth to a tenth of the webhook path's throughput once tracing is on (`make bench-webhooks`).
    A scope that already holds ``fastapi.telemetry`` is one FastAPI counts as observed elsewhere (a mounted
    app's), and passes straight through.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and untraced(scope):
            scope["fastapi.telemetry"] = None
        await super().__call__(scope, receive, send)


@contextmanager
def webhook_span(headers: Headers, route: str) -> Iterator[Span]:
    """The server span of one webhook delivery (continuing a W3C ``traceparent`` the sender gave), with the
    attributes FastAPI's would have; the caller sets ``http.response.status_code``. Made current by hand,
    not with ``start_as_current_span``: this runs for every delivery, sampled or not."""
    span = tracer.start_span(
        f"POST {route}",
        context=_PROPAGATOR.extract(headers),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "POST", "http.route": route, "url.path": route},
    )
    token = otel_context.attach(set_span_in_context(span))
    try:
        yield span
    finally:
        otel_context.detach(token)
        span.end()


def answered(span: Span, status_code: int) -> None:
    span.set_attribute("http.response.status_code", status_code)
    if status_code >= 500:
        span.set_status(Status(StatusCode.ERROR))


def install_telemetry(app: FastAPI, settings: ApiSettings) -> None:
    app.add_middleware(TenantScope)
    if settings.metrics_port:
        from prometheus_fastapi_instrumentator import Instrumentator, metrics

        # The two series the dashboard and the alerts read (per route template, method and status class),
        # not the default five: each one is a write to a shared file per request in multiprocess mode.
        instrumentator = Instrumentator(excluded_handlers=[f"^{path}$" for path in UNOBSERVED])
        instrumentator.add(metrics.requests(), metrics.latency(buckets=LATENCY_BUCKETS))
        instrumentator.instrument(app)
