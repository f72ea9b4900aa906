"""Every error the API returns is JSON with a human-readable ``detail`` that names the field at fault."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import OperationalError as DatabaseOperationalError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from tasklane.errors import BrokerUnavailable
from tasklane_api.schemas.errors import FieldError

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"
CLIENT_CLOSED_REQUEST = 499  # nginx's code for it; only ever seen in logs


def _field_name(loc: Sequence[Any]) -> str:
    # loc is ("body", "email"), ("query", "limit"), ("path", "task_id") or just ("body",).
    parts = [str(part) for part in loc[1:]] or [str(loc[0]) if loc else "request"]
    return ".".join(parts)


def field_errors(exc: RequestValidationError) -> list[FieldError]:
    return [
        FieldError(
            field=_field_name(error.get("loc", ())),
            message=str(error.get("msg", "invalid value")).removeprefix("Value error, "),
            type=error["type"],
        )
        for error in exc.errors()
    ]


def unprocessable(errors: list[FieldError]) -> JSONResponse:
    """The one 422 shape: ``detail`` for a person, ``errors`` for a program."""
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            "detail": "; ".join(f"{e.field}: {e.message}" for e in errors),
            "errors": [e.model_dump() for e in errors],
        },
    )


def malformed_body(reason: str) -> JSONResponse:
    """The one 400 shape: a body that cannot be read as JSON at all, before any field could be checked."""
    return JSONResponse(status_code=status.HTTP_400_BAD_REQUEST, content={"detail": f"body: {reason}"})


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    for error in exc.errors():
        if error.get("type") == "json_invalid":
            return malformed_body(f"not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})")
    return unprocessable(field_errors(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    cause = exc.__cause__
    # FastAPI answers a body it cannot decode with a bare 400 "There was an error parsing the body".
    if exc.status_code == status.HTTP_400_BAD_REQUEST and isinstance(cause, UnicodeDecodeError):
        return malformed_body(f"not valid UTF-8 ({cause.reason} at byte {cause.start})")
    return await http_exception_handler(request, exc)


async def _broker_unavailable(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BrokerUnavailable)
    log.warning("broker unavailable: %s", exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
        content={
            "detail": "the task queue is unavailable, so nothing was accepted; retry later",
            "task_id": exc.task_id,
        },
    )


async def _database_unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.error("database unavailable: %s", exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": RETRY_AFTER_SECONDS},
        content={"detail": "the database is unavailable; retry later"},
    )


async def _client_gone(_: Request, __: Exception) -> Response:
    # The client hung up while sending its body: nobody is left to answer and nothing was done.
    log.debug("client disconnected before its request was read")
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR, content={"detail": "internal server error"}
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(BrokerUnavailable, _broker_unavailable)
    app.add_exception_handler(DatabaseOperationalError, _database_unavailable)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected)
