"""values.yaml, values.schema.json and the README's values table agree: every key is commented, described,
typed and defaulted to what values.yaml says, and the table is the one tools/chart_doc.py generates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml

from tests.chart.helm import CHART
from tools.chart_doc import values_table

SCHEMA: dict[str, Any] = json.loads((CHART / "values.schema.json").read_text())
VALUES_TEXT = (CHART / "values.yaml").read_text()


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        target = SCHEMA["$defs"][node["$ref"].rsplit("/", 1)[1]]
        return {**resolve(target), **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def described_keys(
    mapping: yaml.MappingNode, schema: dict[str, Any], path: str = ""
) -> Iterator[tuple[str, yaml.Node, dict[str, Any]]]:
    """(dotted key, its YAML key node, its schema) for every key the schema declares, depth first; Kubernetes
    objects passed through as they are (resources, affinity...) are not descended into."""
    properties = resolve(schema).get("properties", {})
    for key_node, value_node in mapping.value:
        key = key_node.value
        dotted = f"{path}.{key}" if path else key
        child = properties.get(key)
        assert child is not None, f"values.yaml key {dotted} is not in values.schema.json"
        yield dotted, key_node, resolve(child)
        if isinstance(value_node, yaml.MappingNode) and "properties" in resolve(child):
            yield from described_keys(value_node, child, dotted)


def test_every_values_key_has_a_comment_a_description_a_type_and_its_default() -> None:
    lines = VALUES_TEXT.splitlines()
    root = yaml.compose(VALUES_TEXT)
    assert isinstance(root, yaml.MappingNode)
    values = yaml.safe_load(VALUES_TEXT)
    seen = 0
    for dotted, key_node, schema in described_keys(root, SCHEMA):
        seen += 1
        above = lines[key_node.start_mark.line - 1].strip()
        assert above.startswith("#"), f"values.yaml: {dotted} has no comment above it"
        assert schema.get("description"), f"values.schema.json: {dotted} has no description"
        assert "type" in schema, f"values.schema.json: {dotted} has no type"
        value: Any = values
        for part in dotted.split("."):
            value = value[part]
        if "properties" in schema:
            continue  # an object of described keys: each key carries its own default
        assert "default" in schema, f"values.schema.json: {dotted} has no default"
        assert schema["default"] == value, f"values.schema.json: {dotted}'s default is not values.yaml's"
    assert seen > 150


def test_every_object_in_the_schema_refuses_unknown_keys() -> None:
    def objects(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if "properties" in node:
                yield path, node
            for key, child in node.items():
                yield from objects(child, f"{path}/{key}")
        elif isinstance(node, list):
            for index, child in enumerate(node):
                yield from objects(child, f"{path}/{index}")

    for path, node in objects(SCHEMA, ""):
        if "/allOf/" in path:
            continue  # the conditional rules only add constraints
        assert node.get("additionalProperties") is False, f"values.schema.json{path} accepts unknown keys"


def test_a_worker_set_accepts_exactly_the_keys_of_workers_defaults_plus_its_own() -> None:
    workers = SCHEMA["properties"]["workers"]["properties"]
    defaults = workers["defaults"]["properties"]
    items = workers["sets"]["items"]["properties"]

    def without_defaults(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: without_defaults(v) for k, v in node.items() if k != "default"}
        return node

    assert set(items) == {"name", "service", "queues", *defaults}
    for key, schema in defaults.items():
        assert without_defaults(schema) == items[key], (
            f"workers.sets[].{key} differs from workers.defaults.{key}"
        )


def test_the_values_table_covers_every_key_including_the_worker_sets() -> None:
    # That the README holds this table, current, is tests/test_docs.py's job (every generated section).
    table = values_table()
    assert "| `workers.defaults.terminationGracePeriodSeconds` |" in table
    assert "| `workers.sets[].queues` |" in table


def test_every_template_helper_has_a_comment_above_its_define() -> None:
    lines = (CHART / "templates" / "_helpers.tpl").read_text().splitlines()
    defines = [i for i, line in enumerate(lines) if line.startswith("{{- define")]
    assert len(defines) > 20
    for index in defines:
        assert lines[index - 1].rstrip().endswith("*/}}"), (
            f"_helpers.tpl: {lines[index]} has no comment above it"
        )
