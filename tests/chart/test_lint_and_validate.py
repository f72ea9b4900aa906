"""`helm lint --strict` over the value matrix; every rendered object validated offline and strictly against
the Kubernetes OpenAPI schemas of three versions, and the KEDA objects against KEDA's own CRD schemas."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import pytest
from kubernetes_validate import utils as kubernetes_validate

from tests.chart.helm import CI_VALUES, Manifest, helm, lint, render_cached
from tests.chart.schemas import KUBERNETES_VERSIONS, is_custom, validate_custom, validate_kubernetes

MATRIX = [pytest.param(path, id=path.stem) for path in CI_VALUES]


def test_helm_is_v3_14_or_newer() -> None:
    version = helm("version", "--template", "{{.Version}}").strip()
    major, minor = (int(part) for part in re.match(r"v(\d+)\.(\d+)", version).groups())  # type: ignore[union-attr]
    assert (major, minor) >= (3, 14), version


def test_the_value_matrix_has_every_case_the_issue_names() -> None:
    assert {path.stem for path in CI_VALUES} >= {
        "default-values",
        "keda-values",
        "hpa-values",
        "external-values",
        "external-sentinel-values",
        "networkpolicies-values",
        "extra-worker-set-values",
        "flower-values",
    }


@pytest.mark.parametrize("values_file", MATRIX)
def test_helm_lint_strict_passes(values_file: Path) -> None:
    output = lint(values_files=(values_file,))
    assert "0 chart(s) failed" in output, output


def test_helm_lint_strict_passes_with_no_values_file() -> None:
    assert "0 chart(s) failed" in lint()


@pytest.mark.parametrize("values_file", MATRIX)
def test_every_object_validates_against_kubernetes_and_crd_schemas(values_file: Path) -> None:
    manifests = render_cached(values_files=(values_file,))
    failures = []
    for manifest in manifests:
        where = f"{manifest['kind']}/{manifest['metadata']['name']}"
        if is_custom(manifest):
            try:
                validate_custom(manifest)
            except jsonschema.ValidationError as exc:
                failures.append(f"{where}: {'.'.join(map(str, exc.path))}: {exc.message}")
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                validate_kubernetes(manifest, version)
            except jsonschema.ValidationError as exc:
                failures.append(f"{where} ({version}): {'.'.join(map(str, exc.path))}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_three_kubernetes_versions_including_the_newest_bundled() -> None:
    assert KUBERNETES_VERSIONS[:2] == ("1.29", "1.31")
    assert KUBERNETES_VERSIONS[2] == kubernetes_validate.latest_version()
    assert KUBERNETES_VERSIONS[2] >= "1.37"


def _first(manifests: list[Manifest], kind: str) -> Manifest:
    return copy.deepcopy(next(m for m in manifests if m["kind"] == kind))


def test_the_kubernetes_validation_refuses_unknown_fields_and_wrong_types(
    default_render: list[Manifest],
) -> None:
    deployment = _first(default_render, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["comand"] = ["typo"]
    with pytest.raises(jsonschema.ValidationError, match="comand"):
        validate_kubernetes(deployment, "1.31")
    deployment = _first(default_render, "Deployment")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        validate_kubernetes(deployment, "1.31")


def test_the_keda_validation_refuses_unknown_fields_and_wrong_types(
    matrix: dict[str, list[Manifest]],
) -> None:
    scaled = _first(matrix["keda-values"], "ScaledObject")
    validate_custom(scaled)
    scaled["spec"]["triggers"][0]["metdata"] = {}
    with pytest.raises(jsonschema.ValidationError, match="metdata"):
        validate_custom(scaled)
    scaled = _first(matrix["keda-values"], "ScaledObject")
    scaled["spec"]["minReplicaCount"] = "zero"
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(scaled)
    scaled = _first(matrix["keda-values"], "ScaledObject")
    del scaled["spec"]["scaleTargetRef"]["name"]
    with pytest.raises(jsonschema.ValidationError, match="name"):
        validate_custom(scaled)
    auth = _first(matrix["keda-values"], "TriggerAuthentication")
    validate_custom(auth)
    auth["spec"]["secretTargetRef"][0]["secret"] = "typo"
    with pytest.raises(jsonschema.ValidationError, match="secret"):
        validate_custom(auth)


def test_the_matrix_renders_keda_objects_for_the_crd_check(matrix: dict[str, list[Manifest]]) -> None:
    for stem in ("keda-values", "external-values", "external-sentinel-values", "networkpolicies-values"):
        kinds = {m["kind"] for m in matrix[stem]}
        assert {"ScaledObject", "TriggerAuthentication"} <= kinds, stem
