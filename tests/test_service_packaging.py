"""Each service installs alone, as its image builds it, and runs with only its declared dependencies.

The workspace venv holds every member's dependencies, so an import a service forgot to declare would
pass there and fail in its image. This replays the build stage of the one Dockerfile (its `uv sync` steps
and the sources copied between them, with the service's SERVICE build argument) in a scratch copy.
`make images-test` builds and runs the real images.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness.stack import REPO
from tools.workspace import members

# Every service folder: the module its process imports first (a worker's or beat's Celery app, the API's
# app factory) and its entry point.
SERVICES = {
    member.folder.name: (
        f"{member.package}.app" if (member.source / "app.py").exists() else f"{member.package}.main",
        f"tasklane-{member.folder.name}",
    )
    for member in members()
    if member.is_service
}
PACKAGES = [member.package for member in members() if member.is_service]


def _build_steps(service: str) -> tuple[list[list[str]], list[str]]:
    """The Dockerfile's `uv sync` commands and the sources it copies between the two, for ``service``."""
    dockerfile = (REPO / "Dockerfile").read_text().replace("${SERVICE}", service)
    syncs = list(re.finditer(r"^\s*(uv sync [^\n\\]+)", dockerfile, re.MULTILINE))
    between = dockerfile[syncs[0].end() : syncs[-1].start()] if syncs else ""
    sources = re.findall(r"^COPY (\S+) \1$", between, re.MULTILINE)
    return [match.group(1).split() for match in syncs], sources


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_image_installs_and_imports_with_only_its_declared_dependencies(
    service: str, tmp_path: Path
) -> None:
    module, entry_point = SERVICES[service]
    syncs, sources = _build_steps(service)
    assert len(syncs) == 2, "expected a dependency layer and a project layer"
    assert sources == ["libs", f"services/{service}"], "the project layer adds the libraries and this service"
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copy(REPO / "uv.lock", tmp_path)
    for manifest in [*REPO.glob("libs/*/pyproject.toml"), *REPO.glob("services/*/pyproject.toml")]:
        target = tmp_path / manifest.relative_to(REPO)
        target.parent.mkdir(parents=True)
        shutil.copy(manifest, target)
    env = {**os.environ, "UV_LINK_MODE": "copy", "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)

    subprocess.run(syncs[0], cwd=tmp_path, env=env, check=True, capture_output=True)
    for source in sources:
        shutil.rmtree(tmp_path / source)
        shutil.copytree(REPO / source, tmp_path / source, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(syncs[1], cwd=tmp_path, env=env, check=True, capture_output=True)

    venv = tmp_path / ".venv"
    assert (venv / "bin" / entry_point).exists()
    site_packages = next(venv.glob("lib/python3*/site-packages"))
    assert (site_packages / "celery").is_dir()
    assert not (site_packages / "pytest").exists(), "dev dependencies leaked into the image"
    others = [p for p in PACKAGES if not module.startswith(f"{p}.")]
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
    # The image's bytecode step imports every Tasklane module installed, with only these dependencies.
    compiled = subprocess.run(
        [str(venv / "bin/python"), str(REPO / "scripts/image_bytecode.py")],
        cwd="/",
        env={"PATH": "/usr/bin:/bin", "TASKLANE_DATABASE_URL": "sqlite://"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr
    compiled_packages = compiled.stdout.removeprefix("image_bytecode: ").partition(" and ")[0].split(", ")
    assert {"tasklane", module.partition(".")[0]} <= set(compiled_packages), compiled.stdout
