"""Fuzzing the API from its own OpenAPI document with schemathesis, served as deployed (gunicorn).

Every operation gets generated requests (coverage of boundary values, random fuzzing, and stateful runs
that follow the document's links from a created resource to its reads and deletes). The run fails on any
5xx, any response that does not match its documented schema, content type or headers, and any status code
the document does not list. Webhooks are signed by a hook, as the provider would (see schemathesis_hooks).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tasklane.db.engine import Database
from tests.conftest import Tenant, demo_tenant
from tests.harness.stack import REPO, Services, fresh_broker_url, start_api_server, start_worker, tasklane_env
from tools.demo_data import DemoSpec

SCHEMATHESIS = str(Path(sys.executable).parent / "st")
EXAMPLES_PER_OPERATION = 30
SEED = 20261125  # a fixed seed: the same requests on every run, so a failure reproduces
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "response_schema_conformance",
        "content_type_conformance",
        "response_headers_conformance",
    )
)


@pytest.fixture(scope="module")
def fuzz_env(services: Services) -> dict[str, str]:
    # A broker of its own: what fuzzing queues is consumed by its own worker, not the session's.
    return tasklane_env(services, broker_url=fresh_broker_url(services))


@pytest.fixture(scope="module")
def base_url(fuzz_env: dict[str, str]) -> Iterator[str]:
    # A worker finishes what fuzzing queues, so `?wait=` requests come back early instead of waiting out.
    worker = start_worker(fuzz_env, "notifications")
    server, url = start_api_server(fuzz_env, workers=2)
    yield url
    server.stop()
    worker.stop()
    assert "Traceback" not in server.log(), server.log()[-5000:]


@pytest.mark.timeout(960)  # the run's own timeout (900 s) comes first
def test_fuzzing_every_operation_finds_no_server_error_schema_mismatch_or_undocumented_status(
    base_url: str, database: Database, tmp_path: Path
) -> None:
    tenant: Tenant = demo_tenant(database, DemoSpec(products=15, customers=10, sales=60, users=2, seed=4))
    report = tmp_path / "junit.xml"
    result = subprocess.run(
        [
            SCHEMATHESIS, "run", f"{base_url}/openapi.json",
            "--header", f"Authorization: Bearer {tenant.api_key}",
            "--checks", CHECKS,
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(EXAMPLES_PER_OPERATION),
            "--seed", str(SEED),
            "--generation-database", "none",
            "--workers", "2",
            "--request-timeout", "40",
            "--report", "junit", "--report-junit-path", str(report),
            "--no-color",
        ],
        # Its crash cache goes to the scratch directory, so no run replays an earlier one's findings.
        cwd=tmp_path,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )  # fmt: skip

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    operations = sum(len(ops) for ops in httpx.get(f"{base_url}/openapi.json").json()["paths"].values())
    assert f"Tested: {operations}\n" in output, output[-3000:]
    # Signed by the hook, webhooks got past the signature check (no "only 401/403" warning).
    assert "returned only 401/403" not in output, output[-3000:]
