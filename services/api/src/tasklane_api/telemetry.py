"""The API's share of telemetry: a tenant scope around each request (for logs and error reports), the
request metrics (prometheus-fastapi-instrumentator's names, counted per worker and served by gunicorn's
master) and the request spans (the FastAPI instrumentation), each only when it is switched on."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from tasklane.telemetry import tracing
from tasklane.telemetry.context import tenant_scope
from tasklane_api.settings import ApiSettings

# Probes are polled every few seconds: neither traced nor counted.
UNOBSERVED = ("/healthz", "/readyz")


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


def install_telemetry(app: FastAPI, settings: ApiSettings) -> None:
    app.add_middleware(TenantScope)
    if settings.metrics_port:
        from prometheus_fastapi_instrumentator import Instrumentator

        Instrumentator(excluded_handlers=[f"^{path}$" for path in UNOBSERVED]).instrument(app)
    if tracing.enabled():
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, excluded_urls=",".join(UNOBSERVED))
