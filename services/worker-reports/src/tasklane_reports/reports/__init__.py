"""One module per report: each builds a ``Document`` whose big table streams from the database, and says
with ``@builds`` which task contract it serves; the worker makes one task per entry of ``BUILDERS``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from tasklane.contracts import Payload, TaskContract
from tasklane_reports.document import Document


class ReportPayload(Protocol):
    """What every report's payload has, besides what its own report reads."""

    @property
    def business_id(self) -> uuid.UUID: ...

    @property
    def format(self) -> str: ...


P = TypeVar("P", bound=Payload)
Builder = Callable[[Session, P], Document]

BUILDERS: dict[TaskContract[Any], Builder[Any]] = {}


def builds(contract: TaskContract[P]) -> Callable[[Builder[P]], Builder[P]]:
    """Declare ``build(session, payload)`` as the report ``contract``'s tasks produce."""

    def register(build: Builder[P]) -> Builder[P]:
        BUILDERS[contract] = build
        return build

    return register
