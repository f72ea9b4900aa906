from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tasklane import redis_urls
from tasklane.telemetry.metrics import READINESS
from tasklane_api.deps import get_resources
from tasklane_api.resources import Resources

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: `200` while the process serves requests; it checks nothing else."""
    return {"status": "ok"}


def _check_database(resources: Resources) -> None:
    with resources.database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_broker(resources: Resources) -> None:
    settings = resources.settings
    timeout = settings.readiness_timeout
    client = redis_urls.client(
        settings.broker_url,
        settings.redis_sentinel_master,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
    )
    try:
        client.ping()
    finally:
        client.close()


async def _run_check(check: Callable[[Resources], None], resources: Resources) -> str:
    try:
        await asyncio.wait_for(run_in_threadpool(check, resources), resources.settings.readiness_timeout)
    except TimeoutError:
        return f"down: no answer within {resources.settings.readiness_timeout}s"
    except Exception as exc:
        return f"down: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")
    return "ok"


@router.get(
    "/readyz",
    responses={503: {"description": "A dependency is down; `detail` names it, `checks` says why."}},
)
async def readyz(resources: Annotated[Resources, Depends(get_resources)]) -> Any:
    """Readiness: `200` when PostgreSQL and Redis both answer within `TASKLANE_READINESS_TIMEOUT`, else `503`
    naming what is down."""
    names = ("database", "broker")
    results = await asyncio.gather(
        _run_check(_check_database, resources), _run_check(_check_broker, resources)
    )
    checks = dict(zip(names, results, strict=True))
    for name, result in checks.items():
        READINESS.labels(check=name).set(1 if result == "ok" else 0)
    down = [name for name, result in checks.items() if result != "ok"]
    if down:
        return JSONResponse(
            status_code=503,
            content={
                "status": "unavailable",
                "detail": f"not ready: {', '.join(down)} down",
                "checks": checks,
            },
        )
    return {"status": "ready", "checks": checks}
