"""Each service installs alone, as its Dockerfile builds it, and runs with only its declared dependencies.

The workspace venv holds every member's dependencies, so an import a service forgot to declare would
pass there and fail in its image. This replays the Dockerfile's own `uv sync` steps in a scratch copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness.stack import REPO

SERVICES = {
    "api": ("tasklane_api.main", "gunicorn"),
    "worker-notifications": ("tasklane_notifications.app", "tasklane-worker-notifications"),
    "worker-reports": ("tasklane_reports.app", "tasklane-worker-reports"),
    "worker-payments": ("tasklane_payments.app", "tasklane-worker-payments"),
    "beat": ("tasklane_beat.app", "tasklane-beat"),
}


def _dockerfile_syncs(service: str) -> list[list[str]]:
    dockerfile = (REPO / "services" / service / "Dockerfile").read_text()
    return [line.split() for line in re.findall(r"^\s*(uv sync [^\n\\]+)", dockerfile, re.MULTILINE)]


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_image_installs_and_imports_with_only_its_declared_dependencies(
    service: str, tmp_path: Path
) -> None:
    module, entry_point = SERVICES[service]
    syncs = _dockerfile_syncs(service)
    assert len(syncs) == 2, "expected a dependency layer and a project layer"
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copy(REPO / "uv.lock", tmp_path)
    for manifest in [*REPO.glob("libs/*/pyproject.toml"), *REPO.glob("services/*/pyproject.toml")]:
        target = tmp_path / manifest.relative_to(REPO)
        target.parent.mkdir(parents=True)
        shutil.copy(manifest, target)
    env = {**os.environ, "UV_LINK_MODE": "copy", "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)

    subprocess.run(syncs[0], cwd=tmp_path, env=env, check=True, capture_output=True)
    for source in ("libs/core", f"services/{service}"):
        shutil.rmtree(tmp_path / source)
        shutil.copytree(REPO / source, tmp_path / source, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(syncs[1], cwd=tmp_path, env=env, check=True, capture_output=True)

    venv = tmp_path / ".venv"
    assert (venv / "bin" / entry_point).exists()
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    assert (site_packages / "celery").is_dir()
    assert not (site_packages / "pytest").exists(), "dev dependencies leaked into the image"
    others = [
        p for p in ("tasklane_api", "tasklane_notifications", "tasklane_reports") if not module.startswith(p)
    ]
    probe = subprocess.run(
        [str(venv / "bin/python"), "-c", f"import {module}; import {others[0]}"],
        cwd="/",
        env={
            "PATH": "/usr/bin:/bin",
            "TASKLANE_ENVIRONMENT": "development",
            "TASKLANE_DATABASE_URL": "sqlite://",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    # The service itself imports; no other service's code is in its image.
    assert f"No module named '{others[0]}'" in probe.stderr, probe.stderr
