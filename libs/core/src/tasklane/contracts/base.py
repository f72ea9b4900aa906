from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from tasklane.routing import queue_for


class Payload(BaseModel):
    """A task's keyword arguments: JSON-safe, immutable, and strict about unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True)
class TaskContract(Generic[P]):
    name: str
    payload: type[P]

    def __post_init__(self) -> None:
        queue_for(self.name)  # a contract nobody could route is a programming error; fail at import

    @property
    def queue(self) -> str:
        return queue_for(self.name)

    def validate(self, kwargs: dict[str, Any]) -> P:
        return self.payload.model_validate(kwargs)

    def message_kwargs(self, payload: P) -> dict[str, Any]:
        if not isinstance(payload, self.payload):
            raise TypeError(f"{self.name} takes {self.payload.__name__}, not {type(payload).__name__}")
        return payload.model_dump(mode="json", exclude_unset=False)
