"""``make imports``: the import-linter contracts, made from the routing map and the workspace, then checked.

Nothing lists the packages by hand: every queue of ``tasklane.routing.QUEUE_ROUTES`` is served by the
workspace member whose package is ``tasklane_<queue>``; a service member that serves no queue publishes
(the API, beat). From that:
- publishers never import task code (they publish by name through ``tasklane.contracts``);
- worker services never import each other;
- task packages that live under ``libs/`` (hosted by a worker's app, like maintenance) import no service;
- the shared core imports no other member.
"""

from __future__ import annotations

import configparser
import io
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tasklane.routing import QUEUES
from tools.workspace import REPO, Member, members

CORE = "tasklane"


class MissingTaskPackage(LookupError):
    pass


def contracts(workspace: Sequence[Member], queues: Iterable[str]) -> dict[str, Any]:
    """import-linter's settings and contracts for ``workspace`` serving ``queues``."""
    by_package = {m.package: m for m in workspace}
    task_packages = []
    for queue in queues:
        package = f"tasklane_{queue}"
        if package not in by_package:
            raise MissingTaskPackage(
                f"queue {queue!r} (tasklane.routing.QUEUE_ROUTES) has no workspace member with package "
                f"{package!r}: add one under services/ (its own worker) or libs/ (hosted by a worker)"
            )
        task_packages.append(package)
    workers = [p for p in task_packages if by_package[p].is_service]
    hosted = [p for p in task_packages if not by_package[p].is_service]
    services = [m.package for m in workspace if m.is_service]
    publishers = [p for p in services if p not in task_packages]
    others = [m.package for m in workspace if m.package != CORE]
    found = [
        {
            "name": "Publishers publish by task name and never import task code",
            "type": "forbidden",
            "source_modules": publishers,
            "forbidden_modules": task_packages,
        },
        {"name": "Workers never import each other", "type": "independence", "modules": workers},
        {
            "name": "Hosted task packages import no service",
            "type": "forbidden",
            "source_modules": hosted,
            "forbidden_modules": services,
        },
        {
            "name": "The shared core imports no other member",
            "type": "forbidden",
            "source_modules": [CORE],
            "forbidden_modules": others,
        },
    ]
    return {
        "root_packages": [m.package for m in workspace],
        "include_external_packages": False,
        # a contract over no modules (no hosted packages, one worker) has nothing to check
        "contracts": [c for c in found if all(c.get(k, [1]) for k in ("source_modules", "modules"))],
    }


def config_text(table: dict[str, Any]) -> str:
    """``table`` in import-linter's INI form (``.importlinter``)."""
    config = configparser.ConfigParser(interpolation=None)

    def section(values: dict[str, Any]) -> dict[str, str]:
        return {k: "\n".join(v) if isinstance(v, list) else str(v) for k, v in values.items()}

    config["importlinter"] = section({k: v for k, v in table.items() if k != "contracts"})
    for number, contract in enumerate(table["contracts"], start=1):
        config[f"importlinter:contract:{number}"] = section(contract)
    text = io.StringIO()
    config.write(text)
    return text.getvalue()


def write_config(path: Path, root: Path = REPO, queues: Iterable[str] = QUEUES) -> Path:
    path.write_text(config_text(contracts(members(root), queues)))
    return path


def main(argv: Sequence[str]) -> int:
    """Write the contracts to a scratch file and run ``lint-imports`` on them; ``--print`` shows them."""
    if "--print" in argv:
        sys.stdout.write(config_text(contracts(members(), QUEUES)))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        config = write_config(Path(scratch) / "importlinter.ini")
        lint = Path(sys.executable).parent / "lint-imports"
        return subprocess.run([str(lint), "--config", str(config), *argv], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
