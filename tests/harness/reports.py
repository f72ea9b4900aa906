"""Asking the API for a report and fetching the file, as a client would."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import Tenant


def request_report(api: TestClient, tenant: Tenant, path: str, body: dict[str, Any]) -> dict[str, Any]:
    accepted = api.post(path, json=body, headers=tenant.headers)
    assert accepted.status_code == 202, accepted.text
    task: dict[str, Any] = api.get(f"{accepted.json()['status_url']}?wait=30", headers=tenant.headers).json()
    if task["status"] != "completed":
        task = api.get(f"{accepted.json()['status_url']}?wait=30", headers=tenant.headers).json()
    assert task["status"] == "completed", task
    return task


def download(api: TestClient, task: dict[str, Any]) -> bytes:
    """Fetch through the signed link, with no API key, as a browser would."""
    response = api.get(task["result"]["file_url"])
    assert response.status_code == 200, response.text
    return response.content
