"""Request bodies of tasks a tenant asks for, built from their contracts: the parameters are declared once,
in ``tasklane.contracts``, and a body is those parameters plus any options only the API knows."""

from __future__ import annotations

import inspect
from typing import Any, cast

from pydantic import BaseModel, create_model

from tasklane.contracts import Params, TaskContract


def request_model(contract: TaskContract[Any], *options: type[BaseModel]) -> type[Params]:
    """``<Params>Request``: the contract's parameters (fields, rules, descriptions) and ``options``."""
    if contract.params is None:
        raise TypeError(f"{contract.name} declares no request parameters")
    bases: tuple[type[BaseModel], ...] = (contract.params, *options)
    model = create_model(f"{contract.params.__name__}Request", __base__=bases, __module__=__name__)
    return cast(type[Params], model)


def described(contract: TaskContract[Any]) -> str:
    """The endpoint's description: its contract parameters' docstring."""
    if contract.params is None or not contract.params.__doc__:
        raise TypeError(f"{contract.name} declares no described request parameters")
    return inspect.cleandoc(contract.params.__doc__)
