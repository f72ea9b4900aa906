"""The tenant a process works for right now (a request, a task), for log lines and error reports.

A scope holds it in a mutable cell so that a tenant learned inside the scope is seen by the whole scope:
FastAPI runs a request's dependencies and endpoint in threadpool copies of the request's context, where a
plain context variable set by the authentication would vanish on return.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class _Cell:
    __slots__ = ("tenant",)

    def __init__(self, tenant: uuid.UUID | None) -> None:
        self.tenant = tenant


_scope: ContextVar[_Cell | None] = ContextVar("tasklane_tenant", default=None)


@contextmanager
def tenant_scope(tenant: uuid.UUID | None = None) -> Iterator[None]:
    """A request or task: the tenant starts as ``tenant`` and may be learned later (``set_tenant``)."""
    token = _scope.set(_Cell(tenant))
    try:
        yield
    finally:
        _scope.reset(token)


def set_tenant(tenant: uuid.UUID) -> None:
    """The tenant of the current scope (no scope: nothing to attach it to)."""
    cell = _scope.get()
    if cell is not None:
        cell.tenant = tenant


def current_tenant() -> uuid.UUID | None:
    cell = _scope.get()
    return cell.tenant if cell is not None else None
