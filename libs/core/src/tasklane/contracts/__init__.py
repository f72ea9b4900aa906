"""Task contracts: the name, queue and payload of every task, shared by publishers and workers.

Each queue's contracts live in the module named for it (``tasklane.contracts.reports``...); import them from
there. The API and beat publish by name through these contracts and never import worker code; workers
validate the same payload model again on receipt. ``CONTRACTS`` finds every contract of every module here,
so a new module needs no list to join.
"""

from __future__ import annotations

import importlib
import pkgutil

from tasklane.contracts.base import Params, Payload, TaskContract

CONTRACTS: dict[str, TaskContract[Payload]] = {
    contract.name: contract
    for module in pkgutil.iter_modules(__path__)
    for contract in vars(importlib.import_module(f"{__name__}.{module.name}")).values()
    if isinstance(contract, TaskContract)
}

__all__ = ["CONTRACTS", "Params", "Payload", "TaskContract"]
