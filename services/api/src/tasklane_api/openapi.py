"""The OpenAPI document, made to tell the whole truth about errors.

FastAPI documents what each route declares. Some answers come from machinery every route shares, so they
are added here by rule, in one place, with the shapes the error handlers really send:
- ``401`` on every operation that takes an API key (the bearer dependency refuses a missing or wrong one);
- ``503`` with ``Retry-After`` on the same operations: the key is checked against the database, so an
  unreachable database (or task queue) answers this before anything else can happen;
- ``400`` on every operation with a JSON body: a body that is not UTF-8 JSON is refused before any field
  is looked at;
- ``422`` is Tasklane's own shape (``detail`` and ``errors``), not FastAPI's.
It also adds OpenAPI links from the answers that create something to the operations that follow it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from tasklane_api.schemas.errors import ErrorResponse, ValidationErrorResponse

_REF = "#/components/schemas/{model}"
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorResponse")}}}
    return {"description": description, "content": content, **extra}


_BY_RULE = {
    "401": _error("Missing, wrong or revoked API key (`Authorization: Bearer <key>`); nothing was done."),
    "503": _error(
        "The database or the task queue is unavailable; nothing was done. Retry after `Retry-After`.",
        headers=_RETRY_AFTER,
    ),
    "400": _error("The body is not valid UTF-8 JSON; nothing was done."),
}

# (method, path, status) of an answer -> the operations its fields lead to: {link: (method, path, params)}.
_TASK = {"task_id": "$response.body#/task_id"}
_LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, str]]]] = {
    ("post", "/v1/users", "201"): {
        "GetWelcomeEmailTask": (
            "get", "/v1/tasks/{task_id}", {"task_id": "$response.body#/welcome_email_task_id"}
        )
    },
    ("post", "/v1/reminders", "201"): {
        "GetReminder": ("get", "/v1/reminders/{reminder_id}", {"reminder_id": "$response.body#/id"}),
        "CancelReminder": ("delete", "/v1/reminders/{reminder_id}", {"reminder_id": "$response.body#/id"}),
    },
    ("post", "/v1/credit-purchases", "201"): {
        "GetPurchase": (
            "get", "/v1/credit-purchases/{purchase_id}", {"purchase_id": "$response.body#/purchase_id"}
        ),
    },
}  # fmt: skip
_ACCEPTED_LINKS = {
    "GetTask": ("get", "/v1/tasks/{task_id}", _TASK),
    "CancelTask": ("delete", "/v1/tasks/{task_id}", _TASK),
}


def _add_links(schema: dict[str, Any]) -> None:
    operation_ids = {
        (method, path): operation["operationId"]
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status_code, response in operation["responses"].items():
                links = _LINKS.get((method, path, status_code)) or (
                    _ACCEPTED_LINKS if status_code == "202" else {}
                )
                if links:
                    response["links"] = {
                        name: {"operationId": operation_ids[(m, p)], "parameters": params}
                        for name, (m, p, params) in links.items()
                    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name, model in (("HTTPValidationError", ValidationErrorResponse), ("ErrorResponse", ErrorResponse)):
        components[name] = model.model_json_schema(ref_template=_REF)
        components.update(components[name].pop("$defs", {}))
    components.pop("ValidationError", None)
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation["responses"]
            if operation.get("security"):
                responses.setdefault("401", _BY_RULE["401"])
                responses.setdefault("503", _BY_RULE["503"])
            if "requestBody" in operation:
                responses.setdefault("400", _BY_RULE["400"])
    _add_links(schema)
    app.openapi_schema = schema
    return schema
