"""Validating rendered objects offline: Kubernetes kinds with kubernetes-validate's bundled strict schemas,
KEDA and prometheus-operator kinds with the vendored CRD schemas (tests/chart/schemas/) made strict the way
the API server's strict field validation is: a field a schema does not declare is refused."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
from kubernetes_validate import utils as kubernetes_validate

SCHEMAS = Path(__file__).parent / "schemas"
CUSTOM_KINDS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda-scaledobject-v1alpha1.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda-triggerauthentication-v1alpha1.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "prometheus-operator-podmonitor-v1.json",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheus-operator-prometheusrule-v1.json",
}
KUBERNETES_VERSIONS = ("1.29", "1.31", kubernetes_validate.latest_version())


def _strict(schema: Any) -> Any:
    """Refuse undeclared fields: every object schema with properties and no explicit rule for others gets
    ``additionalProperties: false`` (kubectl's --validate=strict does the same with a CRD's schema)."""
    if isinstance(schema, dict):
        schema = {key: _strict(value) for key, value in schema.items()}
        if (
            schema.get("type") == "object"
            and "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


@functools.cache
def _custom_validator(file: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / file).read_text())
    schema.pop("$comment", None)
    strict = _strict(schema)
    validator: jsonschema.protocols.Validator = jsonschema.Draft7Validator(strict)
    return validator


def is_custom(manifest: dict[str, Any]) -> bool:
    return (manifest["apiVersion"], manifest["kind"]) in CUSTOM_KINDS


def validate_custom(manifest: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError unless ``manifest`` matches its vendored CRD schema (strictly)."""
    _custom_validator(CUSTOM_KINDS[(manifest["apiVersion"], manifest["kind"])]).validate(
        copy.deepcopy(manifest)
    )


def validate_kubernetes(manifest: dict[str, Any], version: str) -> None:
    """Raise unless ``manifest`` matches Kubernetes ``version``'s strict OpenAPI schema. A kind the validator
    has no schema for is a failure too: every object the chart renders must be checked by something."""
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.SchemaNotFoundError as exc:
        raise AssertionError(exc.message) from None
