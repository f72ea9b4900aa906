"""The uv workspace's members, read from their manifests: the one place that knows which packages exist,
so checks, the dev Procfile and images derive their lists from the tree instead of repeating them."""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Member:
    distribution: str  # tasklane-worker-reports
    folder: Path  # services/worker-reports
    package: str  # tasklane_reports
    scripts: tuple[str, ...]  # its console scripts

    @property
    def is_service(self) -> bool:
        return self.folder.parent.name == "services"

    @property
    def source(self) -> Path:
        return self.folder / "src" / self.package


def members(root: Path = REPO) -> list[Member]:
    """Every member under ``libs/`` and ``services/`` (the workspace's globs), in a stable order."""
    found = []
    for manifest in sorted([*root.glob("libs/*/pyproject.toml"), *root.glob("services/*/pyproject.toml")]):
        data = tomllib.loads(manifest.read_text())
        [package] = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
        found.append(
            Member(
                distribution=data["project"]["name"],
                folder=manifest.parent,
                package=Path(package).name,
                scripts=tuple(data["project"].get("scripts", {})),
            )
        )
    return found


def procfile(root: Path = REPO) -> str:
    """``make dev``'s Procfile: the SMTP capture, then every service's own entry point."""
    lines = ["smtp: python scripts/dev_smtp.py --port $TASKLANE_SMTP_PORT --maildir $TASKLANE_DEV_MAIL_DIR"]
    for member in members(root):
        if member.is_service:
            lines.append(f"{member.folder.name}: tasklane-{member.folder.name}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["procfile"]:
        sys.exit("usage: python -m tools.workspace procfile")
    sys.stdout.write(procfile())
