"""The README's endpoint table, generated from the API's own OpenAPI document so the two cannot drift."""

from __future__ import annotations

from typing import Any

from tasklane_api.main import create_app
from tasklane_api.settings import ApiSettings

SECTION = "endpoints-table"
# Answers every operation of a kind gives (see tasklane_api.openapi): listed by code only.
_GENERIC = {"400", "401", "422"}


def openapi_document() -> dict[str, Any]:
    return create_app(ApiSettings(environment="development")).openapi()


def _one_line(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _answers(operation: dict[str, Any], generic_503: str) -> str:
    described, plain = [], []
    for code, response in sorted(operation["responses"].items()):
        description = _one_line(response.get("description", "")).rstrip(".")
        if code.startswith("2") or code in _GENERIC or description == generic_503:
            plain.append(f"`{code}`")
        else:
            described.append(f"`{code}` {description}")
    return " · ".join([" ".join(plain), *described])


def endpoints_table() -> str:
    document = openapi_document()
    generic_503 = _one_line(document["paths"]["/v1/tasks"]["get"]["responses"]["503"]["description"]).rstrip(
        "."
    )
    rows = ["| Endpoint | What it does | Answers |", "| --- | --- | --- |"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            what = _one_line(operation.get("description") or operation["summary"])
            rows.append(f"| `{method.upper()} {path}` | {what} | {_answers(operation, generic_503)} |")
    return "\n".join(rows)
