"""Import boundaries: import-linter contracts made from the routing map and the workspace, with teeth."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasklane.routing import QUEUES
from tests.harness.stack import REPO
from tools.import_contracts import MissingTaskPackage, contracts, write_config
from tools.workspace import members


def _sources(tmp_path: Path) -> Path:
    """Every member's package, copied side by side, so a test can add a module without touching the tree."""
    root = tmp_path / "src"
    for member in members():
        shutil.copytree(member.source, root / member.package)
    return root


def _lint_imports(source_root: Path, config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"],
        cwd=source_root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(source_root)},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path / "importlinter.ini")


def test_the_real_tree_keeps_its_contracts(tmp_path: Path, config: Path) -> None:
    result = _lint_imports(_sources(tmp_path), config)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_come_from_the_routing_map_and_the_workspace() -> None:
    table = contracts(members(), QUEUES)
    by_name = {c["name"]: c for c in table["contracts"]}

    workers = by_name["Workers never import each other"]["modules"]
    assert {"tasklane_notifications", "tasklane_payments", "tasklane_reports"} <= set(workers)
    assert "tasklane_maintenance" not in workers, "a library hosted by a worker is no worker"
    publishers = by_name["Publishers publish by task name and never import task code"]
    assert sorted(publishers["source_modules"]) == ["tasklane_api", "tasklane_beat"]
    assert sorted(publishers["forbidden_modules"]) == sorted(f"tasklane_{q}" for q in QUEUES)
    assert "tasklane_maintenance" in by_name["Hosted task packages import no service"]["source_modules"]


def test_a_new_worker_member_joins_the_contracts_with_no_list_edited(tmp_path: Path) -> None:
    shutil.copytree(REPO / "libs", tmp_path / "libs", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "services", tmp_path / "services", ignore=shutil.ignore_patterns("__pycache__"))
    member = tmp_path / "services/worker-exports"
    (member / "src/tasklane_exports").mkdir(parents=True)
    (member / "pyproject.toml").write_text(
        '[project]\nname = "tasklane-worker-exports"\n\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["src/tasklane_exports"]\n'
    )

    table = contracts(members(tmp_path), (*QUEUES, "exports"))

    workers = next(c for c in table["contracts"] if c["type"] == "independence")["modules"]
    assert "tasklane_exports" in workers
    assert "tasklane_exports" in table["root_packages"]


def test_a_queue_no_member_serves_is_refused_by_name() -> None:
    with pytest.raises(MissingTaskPackage, match=r"queue 'exports'.*tasklane_exports"):
        contracts(members(), (*QUEUES, "exports"))


@pytest.mark.parametrize(
    ("importer", "imported", "broken"),
    [
        (
            "tasklane_api",
            "tasklane_notifications.mailer",
            "Publishers publish by task name and never import task code",
        ),
        (
            "tasklane_beat",
            "tasklane_maintenance.reconciler",
            "Publishers publish by task name and never import task code",
        ),
        ("tasklane_reports", "tasklane_notifications.mailer", "Workers never import each other"),
        ("tasklane_maintenance", "tasklane_reports.job", "Hosted task packages import no service"),
        ("tasklane", "tasklane_api.deps", "The shared core imports no other member"),
    ],
)
def test_an_import_across_a_boundary_breaks_its_contract(
    tmp_path: Path, config: Path, importer: str, imported: str, broken: str
) -> None:
    root = _sources(tmp_path)
    module, name = imported.rsplit(".", 1)
    (root / importer / "shortcut.py").write_text(f"from {module} import {name}\n")

    result = _lint_imports(root, config)

    assert result.returncode == 1
    assert f"{broken} BROKEN" in result.stdout
    assert f"{importer}.shortcut -> {imported}" in result.stdout


@pytest.mark.parametrize("service", ["api", "beat"])
def test_the_publishers_distributions_depend_on_no_task_code(service: str) -> None:
    declared = (REPO / f"services/{service}/pyproject.toml").read_text()

    assert "tasklane-worker" not in declared
    assert "tasklane-maintenance" not in declared
