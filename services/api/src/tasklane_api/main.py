"""The API's application factory (``tasklane_api.main:create_app()``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from tasklane.settings import Settings, load_settings
from tasklane_api.errors import install_error_handlers
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
from tasklane_api.schemas.errors import ValidationErrorResponse

DESCRIPTION = """Tasklane accepts work from tenants and runs it on per-queue workers.

Authenticate with `Authorization: Bearer <api key>`. Long work answers `202 Accepted` with a task id;
follow it at `GET /v1/tasks/{task_id}`."""


def _openapi_with_our_errors(app: FastAPI) -> dict[str, Any]:
    """FastAPI documents its own 422 shape; document the one the API actually returns."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["HTTPValidationError"] = ValidationErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components.pop("ValidationError", None)
    defs = components["HTTPValidationError"].pop("$defs", {})
    components.update(defs)
    app.openapi_schema = schema
    return schema


def create_app(config: Settings | None = None) -> FastAPI:
    resources = Resources.from_settings(config or load_settings())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await resources.waiters.start()
        await resources.intake.start()
        yield
        await resources.intake.stop()
        await resources.waiters.stop()
        resources.close()

    app = FastAPI(title="Tasklane API", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.resources = resources
    install_error_handlers(app)
    webhooks.install(app)  # first: the provider-facing hot path
    for module in (
        health,
        users,
        tasks,
        reports,
        artifacts,
        alerts,
        credits,
        purchases,
        reminders,
        settings,
    ):
        app.include_router(module.router)
    app.mount("/ui", StaticFiles(packages=[("tasklane_api", "static/ui")], html=True), name="ui")
    app.openapi = lambda: _openapi_with_our_errors(app)  # type: ignore[method-assign]
    return app
