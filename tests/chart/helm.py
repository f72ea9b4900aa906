"""Rendering the chart with given values, Airflow-chart style: ``helm template`` in, Kubernetes objects out.

Also the one place that knows every ``TASKLANE_*`` name (from the settings models), and how to read what a
rendered container gets: its command, arguments and environment with ConfigMap and Secret references resolved.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from tools.settings_doc import setting_names

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "tasklane"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
RELEASE = "tl"
NAMESPACE = "tasklane"

Manifest = dict[str, Any]


def helm_binary() -> str:
    """The project's helm (``scripts/bootstrap.sh test`` installs it into .tools/bin), else one on PATH."""
    local = REPO / ".tools" / "bin" / "helm"
    if local.exists():
        return str(local)
    found = shutil.which("helm")
    if found is None:
        raise RuntimeError("helm is not installed; `make setup-test` (scripts/bootstrap.sh test) installs it")
    return found


def tasklane_setting_names() -> frozenset[str]:
    """Every ``TASKLANE_*`` variable any process reads (every owner's settings model)."""
    return setting_names()


class HelmError(Exception):
    """``helm`` refused; the message is its output (``helm lint`` reports on stdout, errors on stderr)."""


def _values_file(values: Mapping[str, Any]) -> Path:
    handle, name = tempfile.mkstemp(prefix="tasklane-values-", suffix=".yaml")
    with os.fdopen(handle, "w") as file:
        yaml.safe_dump(dict(values), file)
    return Path(name)


def helm(*args: str, values: Mapping[str, Any] | None = None, values_files: tuple[Path, ...] = ()) -> str:
    """Run helm on the chart's directory with values files then a values dict; stdout, or HelmError."""
    temporary = _values_file(values) if values else None
    files = [*values_files, *([temporary] if temporary else [])]
    try:
        command = [helm_binary(), *args, *[arg for file in files for arg in ("--values", str(file))]]
        result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False, timeout=120)
    finally:
        if temporary:
            temporary.unlink()
    if result.returncode != 0:
        raise HelmError(f"{result.stdout.strip()}\n{result.stderr.strip()}".strip())
    return result.stdout


def render(
    values: Mapping[str, Any] | None = None,
    *,
    values_files: tuple[Path, ...] = (),
    kube_version: str | None = None,
    extra_args: tuple[str, ...] = (),
) -> list[Manifest]:
    """``helm template`` the chart; the rendered objects (hooks and test pods included)."""
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, *extra_args]
    if kube_version:
        args += ["--kube-version", kube_version]
    output = helm(*args, values=values, values_files=values_files)
    return [doc for doc in yaml.safe_load_all(output) if doc]


@functools.cache
def _render_cached(values_json: str, values_files: tuple[Path, ...]) -> str:
    return json.dumps(render(json.loads(values_json), values_files=values_files))


def render_cached(
    values: Mapping[str, Any] | None = None, *, values_files: tuple[Path, ...] = ()
) -> list[Manifest]:
    """``render``, once per distinct values for the whole session (callers get their own copy)."""
    rendered: list[Manifest] = json.loads(
        _render_cached(json.dumps(values or {}, sort_keys=True), values_files)
    )
    return rendered


def render_error(values: Mapping[str, Any], *, values_files: tuple[Path, ...] = ()) -> str:
    """The message ``helm template`` refuses ``values`` with (fails the test if it renders)."""
    try:
        render(values, values_files=values_files)
    except HelmError as exc:
        return str(exc)
    raise AssertionError(f"helm template rendered values it should refuse: {values}")


def lint(values: Mapping[str, Any] | None = None, *, values_files: tuple[Path, ...] = ()) -> str:
    """``helm lint --strict``; its output, or HelmError with it."""
    return helm("lint", "--strict", str(CHART), values=values, values_files=values_files)


def find(manifests: list[Manifest], kind: str, name: str | None = None) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)]


def one(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = find(manifests, kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def name(suffix: str) -> str:
    """A resource's name in these renders (release ``tl``)."""
    return f"{RELEASE}-tasklane-{suffix}"


def pod_spec(manifest: Manifest) -> dict[str, Any] | None:
    """The pod spec of a workload (Deployment, StatefulSet, Job) or Pod; None for other kinds."""
    if manifest["kind"] == "Pod":
        spec: dict[str, Any] = manifest["spec"]
        return spec
    if manifest["kind"] in {"Deployment", "StatefulSet", "Job", "DaemonSet"}:
        template: dict[str, Any] = manifest["spec"]["template"]["spec"]
        return template
    return None


def containers(manifest: Manifest, *, init: bool = True) -> Iterator[dict[str, Any]]:
    spec = pod_spec(manifest)
    if spec is None:
        return
    if init:
        yield from spec.get("initContainers", [])
    yield from spec["containers"]


def container(manifest: Manifest, container_name: str) -> dict[str, Any]:
    for candidate in containers(manifest):
        if candidate["name"] == container_name:
            return candidate
    raise AssertionError(
        f"{manifest['kind']}/{manifest['metadata']['name']} has no container {container_name}"
    )


def secret_data(manifests: list[Manifest]) -> dict[tuple[str, str], str]:
    """(secret name, key) -> decoded value, for every Secret the render holds."""
    data: dict[tuple[str, str], str] = {}
    for secret in find(manifests, "Secret"):
        for key, value in (secret.get("data") or {}).items():
            data[(secret["metadata"]["name"], key)] = base64.b64decode(value).decode()
        for key, value in (secret.get("stringData") or {}).items():
            data[(secret["metadata"]["name"], key)] = value
    return data


# What the downward API gives the pods of these renders.
POD_FIELDS = {"metadata.name": f"{RELEASE}-tasklane-pod-0", "metadata.namespace": NAMESPACE}


def _expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion of an env value: a variable defined earlier is replaced, ``$$`` is a
    literal ``$``, anything else is left as written."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        value,
    )


def resolved_env(
    manifests: list[Manifest], spec: Mapping[str, Any], external: Mapping[tuple[str, str], str] | None = None
) -> dict[str, str]:
    """A container's environment as Kubernetes would give it: envFrom ConfigMaps first, then env entries,
    with ConfigMap and Secret references read from the rendered objects (``external``: Secrets the user
    manages), pod fields from ``POD_FIELDS`` and ``$(VAR)`` expanded. An optional reference to a missing key
    is left out, as Kubernetes does; a required one fails."""
    secrets = {**secret_data(manifests), **(external or {})}
    configmaps = {c["metadata"]["name"]: c.get("data", {}) for c in find(manifests, "ConfigMap")}
    env: dict[str, str] = {}
    for source in spec.get("envFrom", []):
        if "configMapRef" in source:
            env.update(configmaps[source["configMapRef"]["name"]])
        else:
            raise AssertionError(f"unexpected envFrom source {source}")
    for item in spec.get("env", []):
        if "value" in item:
            env[item["name"]] = _expand(str(item["value"]), env)
            continue
        ref = item["valueFrom"]
        if "secretKeyRef" in ref:
            key = (ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"])
            if key in secrets:
                env[item["name"]] = secrets[key]
            elif not ref["secretKeyRef"].get("optional"):
                raise AssertionError(f"{item['name']}: no Secret {key[0]} with key {key[1]} in the render")
        elif "fieldRef" in ref:
            env[item["name"]] = POD_FIELDS[ref["fieldRef"]["fieldPath"]]
        elif "configMapKeyRef" in ref:
            env[item["name"]] = configmaps[ref["configMapKeyRef"]["name"]][ref["configMapKeyRef"]["key"]]
        else:
            raise AssertionError(f"unexpected valueFrom {ref}")
    return env


def tasklane_containers(manifests: list[Manifest]) -> Iterator[tuple[Manifest, dict[str, Any]]]:
    """Every container (init containers included) that runs a Tasklane process (not the `helm test` pod)."""
    for manifest in manifests:
        if manifest["metadata"].get("annotations", {}).get("helm.sh/hook") == "test":
            continue
        for spec in containers(manifest):
            if "/tasklane-" in f"/{spec['image']}":
                yield manifest, spec
