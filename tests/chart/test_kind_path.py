"""The kind path without Docker: each make target stops at once with a message saying what is missing; the
manifests it applies besides the chart (Mailpit, the load test's Job) validate, meet the "restricted" Pod
Security Standard, and name what the chart renders for the release kind.sh installs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.chart.helm import REPO

TARGETS = ["kind-up", "kind-images", "kind-install", "kind-smoke", "kind-loadtest", "kind-down"]


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
    for target in TARGETS:
        assert f"make {target}" in workflow


KIND_MANIFESTS = [REPO / "k8s" / "kind" / "mailpit.yaml", *sorted((REPO / "k8s" / "loadtest").glob("*.yaml"))]


def test_the_manifests_beside_the_chart_validate_and_meet_pss_restricted() -> None:
    from tests.chart.schemas import KUBERNETES_VERSIONS, validate_kubernetes
    from tests.chart.test_security import restricted_violations, workloads

    manifests = [doc for path in KIND_MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert {m["kind"] for m in manifests} == {"Deployment", "Service", "Job"}
    for manifest in manifests:
        for version in KUBERNETES_VERSIONS:
            validate_kubernetes(manifest, version)
    assert [problem for m in workloads(manifests) for problem in restricted_violations(m)] == []


def test_the_load_test_job_reads_what_the_chart_and_kind_sh_provide() -> None:
    from tests.chart.helm import helm, resolved_env

    (job,) = yaml.safe_load_all((REPO / "k8s" / "loadtest" / "locust-job.yaml").read_text())
    release = re.search(r'^RELEASE="\$\{RELEASE:-(\w+)\}"', (REPO / "scripts" / "kind.sh").read_text(), re.M)
    assert release is not None
    rendered = [
        doc
        for doc in yaml.safe_load_all(
            helm(
                "template",
                release.group(1),
                "charts/tasklane",
                values_files=(REPO / "k8s" / "kind" / "values.yaml",),
            )
        )
        if doc
    ]
    (locust,) = job["spec"]["template"]["spec"]["containers"]
    secret_ref = next(e for e in locust["env"] if e["name"] == "LOADTEST_PAYSTACK_SECRET")["valueFrom"][
        "secretKeyRef"
    ]
    api = next(
        m
        for m in rendered
        if m["kind"] == "Deployment" and m["metadata"]["labels"]["app.kubernetes.io/component"] == "api"
    )
    api_env = resolved_env(rendered, api["spec"]["template"]["spec"]["containers"][0])
    secrets = {m["metadata"]["name"]: m for m in rendered if m["kind"] == "Secret"}
    assert secret_ref["key"] in secrets[secret_ref["name"]]["data"], (
        "the Job signs with the chart's Paystack key"
    )
    assert api_env["TASKLANE_PAYSTACK_SECRET_KEY"].startswith("sk_test_kind_")
    assert api_env["TASKLANE_SMTP_HOST"] == "tasklane-mailpit", "mail goes to Mailpit"
    services = {m["metadata"]["name"] for m in rendered if m["kind"] == "Service"}
    script = (REPO / "scripts" / "kind.sh").read_text()
    assert 'LOCUST_HOST="http://$RELEASE-api:8000"' in script and f"{release.group(1)}-api" in services
    # The locustfile runs in locust's image: nothing but locust and the standard library.
    imports = re.findall(r"^(?:from|import) (\w+)", (REPO / "loadtest" / "locustfile.py").read_text(), re.M)
    assert set(imports) - set(sys.stdlib_module_names) == {"locust"}
