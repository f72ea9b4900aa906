"""Request dependencies: settings, a database session, the Celery app, and the calling tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from tasklane.apikeys import hash_api_key
from tasklane.db.models import ApiKey, Business
from tasklane.telemetry import errors
from tasklane.telemetry.context import set_tenant
from tasklane_api.resources import Resources
from tasklane_api.settings import ApiSettings


# Async although they do no I/O: a plain `def` dependency costs every request a trip through the
# threadpool.
async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings(resources: ResourcesDep) -> ApiSettings:
    return resources.settings


async def get_session(resources: ResourcesDep) -> AsyncIterator[Session]:
    """The request's session, for a sync route to use in its thread.

    Async, so neither end costs a thread hand-off in the usual case: a session connects on first use, and
    one whose route committed (or never touched it) holds no connection, so closing it is no I/O. Only a
    session left in a transaction (a route that raised, or only read) is closed in the threadpool, because
    that close is a ROLLBACK.
    """
    session = resources.database.session()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_celery(resources: ResourcesDep) -> Celery:
    return resources.celery


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
CeleryDep = Annotated[Celery, Depends(get_celery)]

_bearer = HTTPBearer(auto_error=False, description="A tenant API key: `Authorization: Bearer tl_...`")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def authenticate(resources: Resources, credentials: HTTPAuthorizationCredentials | None) -> Business:
    """The business an API key belongs to, looked up in a session of its own, closed straight away."""
    if credentials is None:
        raise _unauthorized("missing API key: send it as `Authorization: Bearer <key>`")
    with resources.database.session() as session:
        business = session.scalar(
            select(Business)
            .join(ApiKey, ApiKey.business_id == Business.id)
            .where(
                ApiKey.key_hash == hash_api_key(credentials.credentials),
                ApiKey.revoked_at.is_(None),
                Business.is_active.is_(True),
            )
        )
    if business is None:
        raise _unauthorized("invalid or revoked API key")
    set_tenant(business.id)
    errors.tag_task(None, business.id)
    return business


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def get_current_business(resources: ResourcesDep, credentials: BearerDep) -> Business:
    return authenticate(resources, credentials)


CurrentBusiness = Annotated[Business, Depends(get_current_business)]
