"""Telling an outage (PostgreSQL or Redis out of reach) from a task's own fault.

An outage is worth waiting out: the task retries. Anything else that goes wrong is the task's (a missing
row, a bug, a refused message) and fails it at once.
"""

from __future__ import annotations

import kombu.exceptions
import psycopg
import redis.exceptions
from sqlalchemy import exc as sa

from tasklane.errors import BrokerUnavailable

OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    sa.OperationalError,  # connection refused or lost, server shutting down, deadlock, statement timeout
    sa.InterfaceError,
    sa.TimeoutError,  # no pooled connection came free in time
    psycopg.OperationalError,  # raw connections (the payments relay's LISTEN)
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    BrokerUnavailable,
)


class EffectNotRecorded(Exception):
    """An outage struck after an effect that cannot be taken back (an email accepted by the relay) and
    before it was recorded. The task's outage retry carries ``done`` (see ``WorkerRuntime``), so the next
    attempt records the effect instead of repeating it."""

    def __init__(self, done: str, outage: BaseException) -> None:
        super().__init__(f"{done}: done, but an outage kept it from being recorded ({outage})")
        self.done = done
        self.outage = outage


def is_outage(exc: BaseException) -> bool:
    if isinstance(exc, OUTAGE_ERRORS):
        return True
    return isinstance(exc, sa.DBAPIError) and bool(exc.connection_invalidated)
