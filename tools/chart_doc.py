"""The README's chart values table, generated from charts/tasklane/values.schema.json so it cannot drift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SCHEMA = Path(__file__).resolve().parents[1] / "charts" / "tasklane" / "values.schema.json"
SECTION = "values-table"


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A node with its ``$ref`` target's keys merged in (the node's own keys win)."""
    if "$ref" not in node:
        return node
    target = defs[node["$ref"].rsplit("/", 1)[1]]
    return {**_resolve(target, defs), **{k: v for k, v in node.items() if k != "$ref"}}


def _type(node: dict[str, Any]) -> str:
    kind = node.get("type", "object")
    kinds = kind if isinstance(kind, list) else [kind]
    text = " or ".join(kinds)
    if "enum" in node:
        text += ": " + ", ".join(f"`{value}`" for value in node["enum"])
    return text


def _default(node: dict[str, Any]) -> str:
    if "default" not in node:
        return ""
    value = node["default"]
    text = value if isinstance(value, str) and value else json.dumps(value, separators=(", ", ": "))
    return f"`{text}`"


def _rows(
    path: str, node: dict[str, Any], defs: dict[str, Any], inherited: Any = None
) -> Iterator[tuple[str, str, str, str]]:
    """(key, type, default, description) of every leaf under ``node``; ``inherited`` is the parent's default
    for this key (defaults given on a $ref'd object apply to its children)."""
    node = _resolve(node, defs)
    if "default" not in node and inherited is not None:
        node = {**node, "default": inherited}
    if path == "workers.sets":
        yield from _set_rows(node)
        return
    properties = node.get("properties")
    if path and not properties:
        yield path, _type(node), _default(node), node.get("description", "")
        return
    default = node.get("default")
    defaults: dict[str, Any] = default if isinstance(default, dict) else {}
    for key, child in (properties or {}).items():
        yield from _rows(f"{path}.{key}" if path else key, child, defs, defaults.get(key))


def _set_rows(sets: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    names = ", ".join(f"`{entry['name']}`" for entry in sets.get("default", []))
    yield "workers.sets", "array", names, sets["description"]
    for key, child in sets["items"]["properties"].items():
        yield f"workers.sets[].{key}", _type(child), "", child["description"]
    yield "workers.sets[].*", "", "", "Any key of `workers.defaults`, overriding it for the set."


def values_table(schema: dict[str, Any] | None = None) -> str:
    schema = schema or json.loads(SCHEMA.read_text())
    defs = schema.get("$defs", {})
    rows = ["| Key | Type | Default | Description |", "| --- | --- | --- | --- |"]
    for key, kind, default, description in _rows("", schema, defs):
        rows.append(f"| `{key}` | {kind} | {default} | {description} |")
    return "\n".join(rows)
