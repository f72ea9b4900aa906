"""The README's reference tables are generated (`make docs`); these fail when one is stale."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute

from tasklane_api.main import ROUTERS, create_app
from tasklane_api.settings import ApiSettings
from tools.docs import GENERATORS
from tools.readme import section


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_each_generated_readme_table_is_current(name: str) -> None:
    assert section(name) == GENERATORS[name](), f"run `make docs` to regenerate the README's {name}"


def test_the_openapi_document_lists_every_route_with_its_answers() -> None:
    app = create_app(ApiSettings(environment="development"))
    document = app.openapi()

    routes = {
        (method.lower(), route.path)
        for route in [*app.routes, *(r for router in ROUTERS for r in router.routes)]
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in route.methods
    }
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    assert documented == routes
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert any(code.startswith("2") for code in responses), (method, path)
            assert operation.get("description"), f"{method} {path} has no description (route docstring)"
            if operation.get("security"):
                assert {"401", "503"} <= set(responses), (method, path)
            if "requestBody" in operation:
                assert "400" in responses, (method, path)
            if "422" in responses:
                assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/HTTPValidationError"
                )
    assert set(document["components"]["schemas"]["HTTPValidationError"]["required"]) == {"detail", "errors"}
