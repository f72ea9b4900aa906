from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text

from tasklane_api.deps import get_resources
from tasklane_api.resources import Resources

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness: the process is up and serving requests; checks nothing else."""
    return {"status": "ok"}


def _check_database(resources: Resources) -> None:
    with resources.database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _check_broker(resources: Resources) -> None:
    timeout = resources.settings.readiness_timeout
    client = redis.Redis.from_url(
        resources.settings.broker_url, socket_connect_timeout=timeout, socket_timeout=timeout
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
    """Readiness: the database and the broker both answer within the readiness timeout."""
    names = ("database", "broker")
    results = await asyncio.gather(
        _run_check(_check_database, resources), _run_check(_check_broker, resources)
    )
    checks = dict(zip(names, results, strict=True))
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
