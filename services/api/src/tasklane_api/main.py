"""The API's application factory (``tasklane_api.main:create_app()``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tasklane.settings import load_settings
from tasklane_api.docs import install_docs
from tasklane_api.errors import install_error_handlers
from tasklane_api.openapi import build_openapi
from tasklane_api.resources import Resources
from tasklane_api.routes import (
    alerts,
    artifacts,
    credits,
    health,
    purchases,
    reminders,
    reports,
    settings,
    tasks,
    users,
    webhooks,
)
from tasklane_api.settings import ApiSettings
from tasklane_api.telemetry import FASTAPI_TELEMETRY, Api, install_telemetry

ROUTERS = tuple(
    module.router
    for module in (health, users, tasks, reports, artifacts, alerts, credits, purchases, reminders, settings)
)

DESCRIPTION = """Tasklane accepts work from tenants and runs it on per-queue workers.

Authenticate with `Authorization: Bearer <api key>`. Long work answers `202 Accepted` with a task id;
follow it at `GET /v1/tasks/{task_id}`."""


def create_app(config: ApiSettings | None = None) -> FastAPI:
    resources = Resources.from_settings(config or load_settings(ApiSettings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Sync routes run on anyio's threadpool, and nearly every one holds a database connection. At the
        # default 40 threads, the threads beyond the pool's connections open overflow connections that close
        # again per request (a PostgreSQL backend forked each time) and every thread fights for the GIL:
        # `make bench-accept` went from about 190 to about 400 requests/s with as many threads as the pool
        # keeps connections. Requests beyond that wait on the event loop, which costs them nothing.
        to_thread.current_default_thread_limiter().total_tokens = resources.settings.database_pool_size
        await resources.waiters.start()
        await resources.intake.start()
        yield
        await resources.intake.stop()
        await resources.waiters.stop()
        resources.close()

    app = Api(
        title="Tasklane API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        telemetry=FASTAPI_TELEMETRY,  # active once tracing is configured (gunicorn's post_fork)
    )
    app.state.resources = resources
    install_error_handlers(app)
    webhooks.install(app)  # first: the provider-facing hot path
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/ui", StaticFiles(packages=[("tasklane_api", "static/ui")], html=True), name="ui")
    install_docs(app)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    install_telemetry(app, resources.settings)
    return app
