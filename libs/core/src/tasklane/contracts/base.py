from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from tasklane.routing import queue_for


class Payload(BaseModel):
    """A task's keyword arguments: JSON-safe, immutable, and strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Params(Payload):
    """The part of an API-triggered task's payload that the tenant chooses: the API's request body is built
    from it (its fields, rules and descriptions), and the payload extends it with what the API knows (the
    tenant's id). Its docstring describes the endpoint."""


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class TaskContract(Generic[P]):
    """A task type, declared once: its name (which decides its queue), its payload and, for work a tenant
    asks the API for, the request parameters the payload is built from."""

    name: str
    payload: type[P]
    params: type[Params] | None = None

    def __post_init__(self) -> None:
        queue_for(self.name)  # a contract nobody could route is a programming error; fail at import
        if self.params is not None and not issubclass(self.payload, self.params):
            raise TypeError(f"{self.name}: {self.payload.__name__} must extend {self.params.__name__}")

    @property
    def queue(self) -> str:
        return queue_for(self.name)

    def validate(self, kwargs: dict[str, Any]) -> P:
        return self.payload.model_validate(kwargs)

    def from_params(self, params: Params, **context: Any) -> P:
        """The payload for a request's ``params`` (already validated, as the request body) and ``context``
        (what the API adds, such as ``business_id``), without validating the parameters a second time."""
        if self.params is None or not isinstance(params, self.params):
            wanted = self.params.__name__ if self.params else "no parameters"
            raise TypeError(f"{self.name} takes {wanted}, not {type(params).__name__}")
        fields = {name: getattr(params, name) for name in self.params.model_fields} | context
        declared = self.payload.model_fields
        missing = [name for name, field in declared.items() if field.is_required() and name not in fields]
        unknown = sorted(set(context) - set(declared))
        if missing or unknown:
            raise TypeError(f"{self.name}: missing {missing}; not payload fields: {unknown}")
        payload: P = self.payload.model_construct(**fields)  # type: ignore[assignment]  # Self of type[P]
        return payload

    def message_kwargs(self, payload: P) -> dict[str, Any]:
        if not isinstance(payload, self.payload):
            raise TypeError(f"{self.name} takes {self.payload.__name__}, not {type(payload).__name__}")
        return payload.model_dump(mode="json", exclude_unset=False)
