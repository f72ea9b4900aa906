"""The kind path without Docker: each make target stops at once with a message saying what is missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.chart.helm import REPO

TARGETS = ["kind-up", "kind-images", "kind-install", "kind-smoke", "kind-down"]


def make(target: str, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path}
    return subprocess.run(
        ["make", "--no-print-directory", "-s", target],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def fake_bin(tmp_path: Path, **commands: int) -> str:
    """A PATH of the basic tools plus fake commands exiting with the given codes."""
    for command, code in commands.items():
        script = tmp_path / command
        script.write_text(f"#!/bin/sh\nexit {code}\n")
        script.chmod(0o755)
    return f"{tmp_path}:/usr/bin:/bin"


@pytest.mark.parametrize("target", TARGETS)
def test_without_docker_each_target_says_so(target: str, tmp_path: Path) -> None:
    result = make(target, fake_bin(tmp_path))
    assert result.returncode != 0
    assert "docker is not installed" in result.stderr, result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_without_a_docker_engine_each_target_says_so(target: str, tmp_path: Path) -> None:
    result = make(target, fake_bin(tmp_path, docker=1))
    assert result.returncode != 0
    assert "no Docker engine answers" in result.stderr, result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_without_kind_each_target_says_so(target: str, tmp_path: Path) -> None:
    result = make(target, fake_bin(tmp_path, docker=0))
    assert result.returncode != 0
    assert "kind is not installed" in result.stderr, result.stderr


def test_the_kind_values_render_and_the_ci_workflow_runs_the_same_targets() -> None:
    from tests.chart.helm import find, name, one, render

    manifests = render(
        values_files=(REPO / "k8s" / "kind" / "values.yaml", REPO / "k8s" / "kind" / "keda-values.yaml")
    )
    service = one(manifests, "Service", name("api"))
    cluster = yaml.safe_load((REPO / "k8s" / "kind" / "cluster.yaml").read_text())
    (mapping,) = cluster["nodes"][0]["extraPortMappings"]
    assert service["spec"]["ports"][0]["nodePort"] == mapping["containerPort"]
    assert [node["role"] for node in cluster["nodes"]] == ["control-plane", "worker", "worker"]
    assert not [j for j in find(manifests, "Job") if "helm.sh/hook" in j["metadata"].get("annotations", {})]
    assert find(manifests, "ScaledObject")
    workflow = (REPO / ".github" / "workflows" / "kind-e2e.yml").read_text()
    for target in ("kind-up", "kind-images", "kind-install", "kind-smoke", "kind-down"):
        assert f"make {target}" in workflow
