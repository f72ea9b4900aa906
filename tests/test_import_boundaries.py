"""The API never imports worker code: import-linter enforces it, and this shows the check has teeth."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.harness.stack import REPO

SOURCES = {
    "tasklane": REPO / "libs/core/src/tasklane",
    "tasklane_api": REPO / "services/api/src/tasklane_api",
    "tasklane_notifications": REPO / "services/worker-notifications/src/tasklane_notifications",
    "tasklane_reports": REPO / "services/worker-reports/src/tasklane_reports",
    "tasklane_payments": REPO / "services/worker-payments/src/tasklane_payments",
    "tasklane_beat": REPO / "services/beat/src/tasklane_beat",
}


def _lint_imports(source_root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "lint-imports"),
            "--config",
            str(REPO / "pyproject.toml"),
            "--no-cache",
        ],
        cwd=source_root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(source_root)},
        capture_output=True,
        text=True,
        check=False,
    )


def _copy_sources(tmp_path: Path) -> Path:
    for package, path in SOURCES.items():
        shutil.copytree(path, tmp_path / package)
    return tmp_path


def test_the_real_tree_keeps_its_contracts(tmp_path: Path) -> None:
    result = _lint_imports(_copy_sources(tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_api_module_importing_a_worker_package_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_sources(tmp_path)
    (root / "tasklane_api" / "shortcut.py").write_text("from tasklane_notifications import mailer\n")

    result = _lint_imports(root)

    assert result.returncode == 1
    assert "The API and beat publish by task name and never import worker code BROKEN" in result.stdout
    assert "tasklane_api.shortcut -> tasklane_notifications.mailer" in result.stdout


def test_the_api_distribution_does_not_depend_on_any_worker() -> None:
    declared = (REPO / "services/api/pyproject.toml").read_text()

    assert "tasklane-worker" not in declared


def test_beat_importing_a_worker_package_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_sources(tmp_path)
    (root / "tasklane_beat" / "shortcut.py").write_text("from tasklane_reports import maintenance\n")

    result = _lint_imports(root)

    assert result.returncode == 1
    assert "tasklane_beat.shortcut -> tasklane_reports.maintenance" in result.stdout


def test_the_beat_distribution_depends_on_no_worker() -> None:
    assert "tasklane-worker" not in (REPO / "services/beat/pyproject.toml").read_text()


def test_a_worker_importing_another_worker_breaks_the_contract(tmp_path: Path) -> None:
    root = _copy_sources(tmp_path)
    (root / "tasklane_reports" / "shortcut.py").write_text("from tasklane_notifications import mailer\n")

    result = _lint_imports(root)

    assert result.returncode == 1
    assert "Workers never import each other BROKEN" in result.stdout
