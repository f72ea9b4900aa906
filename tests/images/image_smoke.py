"""`make images-test`: every built image starts its service, does one real unit of work, stops cleanly.

Each image runs its own default command with buildah, as its user (UID 10001), on a read-only root
filesystem with only ``/tmp`` writable, against throwaway PostgreSQL, Redis and SMTP servers on loopback:
- api: ``tasklane db upgrade`` migrates an empty database; the server answers ``/readyz`` and
  ``/openapi.json``; the CLI in the image creates the tenant and demo data the other steps use;
- each worker consumes one task from its queues, reached through the API container as a client would
  (a welcome email reaches the SMTP capture; a CSV sales report is stored and downloaded; a signed
  payment webhook is stored, relayed and credited), its probes pass, and the task record ends completed;
- beat takes its RedBeat lock and publishes a due entry;
- SIGTERM stops each within its grace period with exit code 0.

The file name keeps it out of `make test` (it needs the images, root and a few minutes); `make images`
builds them first, and the test refuses images whose build context differs from this checkout.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from tasklane.db.migrate import head_revision
from tasklane_beat.schedule import SCHEDULE
from tasklane_reports.job import SCRATCH_PREFIX
from tests.harness import paystack
from tests.harness.beat import BrokerWatcher
from tests.harness.ports import free_port, wait_for
from tests.harness.postgres_server import PostgresServer
from tests.harness.processes import ManagedProcess
from tests.harness.redis_server import RedisServer
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import REPO, Services, tasklane_env
from tests.images.containers import Image, ImageContainer, Stopped

SERVICES = ("api", "worker-notifications", "worker-reports", "worker-payments", "beat")
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
SIZE_LIMIT = 250_000_000  # bytes, uncompressed
GRACE = 30.0  # seconds between SIGTERM and SIGKILL: Kubernetes' default terminationGracePeriodSeconds
API_GRACEFUL_TIMEOUT = "10"
OTHER_PACKAGES = {
    "tasklane_api",
    "tasklane_notifications",
    "tasklane_reports",
    "tasklane_payments",
    "tasklane_beat",
}
OWN_PACKAGE = {
    "api": "tasklane_api",
    "worker-notifications": "tasklane_notifications",
    "worker-reports": "tasklane_reports",
    "worker-payments": "tasklane_payments",
    "beat": "tasklane_beat",
}

pytestmark = pytest.mark.timeout(600)


@dataclass
class Row:
    """One line of the summary table."""

    image: str
    size: int = 0
    proved: list[str] = field(default_factory=list)
    stop: Stopped | None = None
    seconds: float = 0.0


ROWS: dict[str, Row] = {}


BUILD_CONTEXT = ("Dockerfile", ".dockerignore", "pyproject.toml", "uv.lock", "libs", "services")


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)


def built_from_this_checkout(revision: str) -> bool:
    """The image's revision label names this checkout's build context: the same commit (both dirty or
    both clean), or another clean commit whose build context is the same as this clean checkout's."""
    dirty = bool(_git("status", "--porcelain", "--", *BUILD_CONTEXT).stdout.strip())
    head = _git("rev-parse", "HEAD").stdout.strip()
    if revision == (f"{head}-dirty" if dirty else head):
        return True
    if dirty or revision.endswith("-dirty"):
        return False
    return _git("diff", "--quiet", revision, head, "--", *BUILD_CONTEXT).returncode == 0


@pytest.fixture(scope="module")
def images() -> dict[str, Image]:
    found: dict[str, Image] = {}
    for service in SERVICES:
        ref = f"localhost/tasklane-{service}:{VERSION}"
        try:
            image = Image.inspect(ref)
        except RuntimeError as exc:
            pytest.fail(f"{ref} is not built ({exc}); run `make images` first")
        revision = image.labels.get("org.opencontainers.image.revision", "")
        if not built_from_this_checkout(revision):
            pytest.fail(f"{ref} was built from {revision or '?'}, not from this checkout; run `make images`")
        found[service] = image
    return found


@pytest.fixture(scope="module", autouse=True)
def summary(request: pytest.FixtureRequest) -> Iterator[None]:
    """Prints one line per image once the module is done, whatever happened."""
    yield
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None or not ROWS:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line("")
        reporter.write_line(f"{'image':<30} {'MB':>6}  {'SIGTERM':<22} {'seconds':>7}  proved")
        for row in ROWS.values():
            stop = f"{row.stop.how} in {row.stop.seconds:.1f}s" if row.stop else "-"
            proved = "; ".join(row.proved)
            reporter.write_line(
                f"{row.image:<30} {row.size / 1e6:6.1f}  {stop:<22} {row.seconds:7.1f}  {proved}"
            )


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    postgres, redis_server, smtp = PostgresServer(), RedisServer(), SmtpServer()
    postgres.start()
    redis_server.start()
    smtp.start()
    database_url = postgres.create_database("tasklane")  # empty: the API image migrates it
    yield Services(postgres=postgres, redis=redis_server, smtp=smtp, database_url=database_url)
    smtp.stop()
    redis_server.stop()
    postgres.destroy()


def container_env(services: Services, **overrides: str) -> dict[str, str]:
    """Only the TASKLANE_* settings: everything else comes from the image."""
    env = tasklane_env(services, TASKLANE_WORKER_CONCURRENCY="1", **overrides)
    return {key: value for key, value in env.items() if key.startswith("TASKLANE_")}


def sql(services: Services, query: str, *params: object) -> list[tuple[object, ...]]:
    url = services.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, not checked against the source


def assert_compiled_unchecked(site: Path, package: str) -> None:
    """Tasklane's modules have bytecode compiled at build time that Python uses without checking the source;
    the libraries' only where the service loads them (scripts/image_bytecode.py)."""

    def flags(module: Path) -> int | None:
        compiled = module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc"
        return int.from_bytes(compiled.read_bytes()[4:8], "little") if compiled.exists() else None

    own = [m for p in site.glob("tasklane*") if p.is_dir() for m in p.rglob("*.py")]
    assert len(own) > 50 and {flags(m) for m in own} == {UNCHECKED_HASH}, package
    libraries = [m for m in site.rglob("*.py") if not m.relative_to(site).parts[0].startswith("tasklane")]
    compiled = [m for m in libraries if flags(m) == UNCHECKED_HASH]
    assert 300 < len(compiled) < len(libraries), f"{len(compiled)} of {len(libraries)} library modules"


# What a process of the image loads (its package's modules, Celery's and gunicorn's command lines), each
# from bytecode compiled at build time: none compiled at start-up.
LOADED_FROM_BYTECODE = """
import importlib, importlib.util, json, os, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    if not module.name.endswith(".__main__"):
        importlib.import_module(module.name)
for name in ("celery.bin.celery", "gunicorn.app.wsgiapp"):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        pass  # gunicorn is the API's alone
loaded = [m for m in list(sys.modules.values()) if getattr(m, "__file__", None) and "/.venv/" in m.__file__
          and m.__file__.endswith(".py")]
missing = [m.__name__ for m in loaded if not os.path.exists(importlib.util.cache_from_source(m.__file__))]
print(json.dumps({"loaded": len(loaded), "missing": missing}))
"""


def check_image(image: Image, service: str, container: ImageContainer, env: dict[str, str]) -> list[str]:
    """What every image must be, from its configuration, its files and a process started in it."""
    config = image.config
    assert config.get("User") == "10001:10001"
    assert config.get("StopSignal") == "SIGTERM"
    assert container.default_command == ["tasklane-service"]
    assert image.env.get("PYTHONDONTWRITEBYTECODE") == "1"
    labels = image.labels
    assert labels["org.opencontainers.image.title"] == f"tasklane-{service}"
    assert labels["org.opencontainers.image.version"] == VERSION
    assert labels["org.opencontainers.image.source"]
    assert image.size < SIZE_LIMIT, f"{image.ref} is {image.size / 1e6:.1f} MB"

    root = container.rootfs
    venv = root / "app/.venv"
    assert (venv / "bin/tasklane-service").readlink() == Path(f"tasklane-{service}"), "runs its own service"
    site = next(venv.glob("lib/python3*/site-packages"))
    assert (venv / "bin/tasklane").exists() and (venv / f"bin/tasklane-{service}").exists()
    packages = {p.name for p in site.iterdir()}
    assert {"tasklane", OWN_PACKAGE[service]} <= packages
    assert not (OTHER_PACKAGES - {OWN_PACKAGE[service]}) & packages, "another service's code is in the image"
    assert not {"pytest", "mypy", "ruff", "_pytest", "uv", "pip"} & packages, "tooling in the runtime venv"
    assert not list(site.glob("*.pth")), "an editable install points outside the venv"
    assert_compiled_unchecked(site, OWN_PACKAGE[service])
    loaded = container.exec(["python3", "-c", LOADED_FROM_BYTECODE, OWN_PACKAGE[service]], env)
    assert loaded.returncode == 0, loaded.stderr
    imports = json.loads(loaded.stdout.strip().splitlines()[-1])
    assert imports["loaded"] > 300 and not imports["missing"], imports
    for absent in ("app/libs", "app/services", "app/uv.lock", "opt/uv", "usr/local/bin/uv", "root/.cache",
                   "usr/bin/gcc", "usr/bin/strip"):  # fmt: skip
        assert not (root / absent).exists(), f"/{absent} must not be in the runtime image"
    interpreter = (venv / "bin/python").readlink()
    assert interpreter.is_absolute() and (root / interpreter.relative_to("/")).exists(), interpreter

    probe = container.exec(
        ["python3", "-c", "import json, os, socket\n"
         "root = [l.split()[5] for l in open('/proc/self/mountinfo') if l.split()[4] == '/'][-1]\n"
         "print(json.dumps({'uid': os.getuid(), 'gid': os.getgid(), 'root': root,\n"
         "  'tmp': os.access('/tmp', os.W_OK), 'host': socket.gethostname()}))"],
        env,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert (seen["uid"], seen["gid"]) == (10001, 10001)
    assert seen["root"].split(",")[0] == "ro", seen
    assert seen["tmp"] is True
    return ["UID 10001, read-only root, hardened config"]


def wait_started(
    process: ManagedProcess, ready: Callable[[], object], what: str, timeout: float = 90
) -> None:
    try:
        wait_for(lambda: process.alive() and ready(), timeout=timeout, interval=0.5, what=what)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- log ---\n{process.log()[-4000:]}") from None


def stop_cleanly(container: ImageContainer, process: ManagedProcess, row: Row) -> None:
    row.stop = container.stop(process, GRACE)
    assert row.stop.returncode == 0, f"{row.stop}\n--- log ---\n{process.log()[-4000:]}"


@dataclass
class Api:
    container: ImageContainer
    process: ManagedProcess
    base_url: str
    client: httpx.Client
    key: str
    owner_email: str
    env: dict[str, str]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def wait_task(self, task_id: str, timeout: float = 60) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        task: dict[str, object] = {}
        while time.monotonic() < deadline:
            task = self.client.get(f"/v1/tasks/{task_id}?wait=10", headers=self.headers).json()
            if task["status"] in ("completed", "failed", "cancelled"):
                return task
        raise AssertionError(f"task {task_id} did not finish within {timeout}s: {task}")


@pytest.fixture(scope="module")
def api(images: dict[str, Image], services: Services) -> Iterator[Api]:
    started = time.monotonic()
    row = ROWS.setdefault("api", Row("tasklane-api", images["api"].size))
    port = free_port()
    env = container_env(
        services,
        TASKLANE_API_BIND=f"127.0.0.1:{port}",
        TASKLANE_API_WORKERS="1",
        TASKLANE_API_GRACEFUL_TIMEOUT=API_GRACEFUL_TIMEOUT,
        TASKLANE_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
    )
    container = ImageContainer(images["api"], "api")
    try:
        row.proved += check_image(images["api"], "api", container, env)

        migrated = container.exec(["tasklane", "db", "upgrade"], env)
        assert migrated.returncode == 0, migrated.stderr
        current = container.exec(["tasklane", "db", "current"], env)
        assert head_revision() in current.stdout, current.stdout + current.stderr
        assert sql(services, "SELECT count(*) FROM task_records") == [(0,)]
        row.proved.append("db upgrade migrated an empty database")

        owner = f"owner-{uuid.uuid4().hex[:8]}@smoke.test"
        created = container.exec(
            ["tasklane", "admin", "create-business", "--name", "Smoke Shop", "--email", owner], env
        )
        assert created.returncode == 0, created.stderr
        key = re.findall(r"API key \(shown once, store it now\): (\S+)", created.stdout)[0]
        # Demo data is development tooling, not in any image: filled from the checkout into the same database.
        demo = subprocess.run(
            [sys.executable, "-m", "tools.demo_data", "--business-email", owner, "--products", "5",
             "--customers", "8", "--sales", "40", "--users", "1"],
            env={**os.environ, **env}, cwd=REPO, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert demo.returncode == 0, demo.stderr

        process = container.start(env)
        base_url = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base_url, timeout=20)

        def healthy() -> bool:
            return client.get("/healthz", timeout=1).status_code == 200

        wait_started(process, healthy, "gunicorn to serve /healthz")
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready", ready.text
        assert client.get("/openapi.json").json()["info"]["title"] == "Tasklane API"
        row.proved.append("serves /readyz 200 and /openapi.json; its CLI made the tenant")
        row.seconds += time.monotonic() - started
        yield Api(container, process, base_url, client, key, owner, env)
        client.close()
    finally:
        container.destroy()


def _worker(images: dict[str, Image], services: Services, service: str) -> tuple[ImageContainer, Row]:
    row = ROWS.setdefault(service, Row(f"tasklane-{service}", images[service].size))
    return ImageContainer(images[service], service), row


def start_worker(container: ImageContainer, env: dict[str, str], row: Row) -> ManagedProcess:
    process = container.start(env)

    def answers_ping() -> bool:  # the chart's readiness probe, run in the image
        return (
            container.exec(["tasklane", "health", "ping", "--timeout", "2"], env, timeout=30).returncode == 0
        )

    wait_started(process, answers_ping, f"{container.hostname} to answer `tasklane health ping`")
    return process


def check_heartbeat(container: ImageContainer, env: dict[str, str], row: Row) -> None:
    beat = container.exec(["tasklane", "health", "heartbeat"], env)  # the chart's liveness probe
    assert beat.returncode == 0, beat.stderr
    assert (container.tmp / "tasklane-worker.heartbeat").exists()
    row.proved.append("health ping + heartbeat probes pass")


def test_worker_notifications_sends_a_welcome_email(
    images: dict[str, Image], services: Services, api: Api
) -> None:
    started = time.monotonic()
    container, row = _worker(images, services, "worker-notifications")
    try:
        env = container_env(services)
        row.proved += check_image(images["worker-notifications"], "worker-notifications", container, env)
        process = start_worker(container, env, row)

        created = api.client.post(
            "/v1/users", json={"email": "smoke-user@example.com", "name": "Smoke"}, headers=api.headers
        )
        assert created.status_code == 201, created.text
        task = api.wait_task(created.json()["welcome_email_task_id"])
        assert task["status"] == "completed", task
        message = services.smtp.wait_for_message_to("smoke-user@example.com")
        assert "Welcome" in str(message["Subject"])
        row.proved.append("welcome email task completed, email captured")
        check_heartbeat(container, env, row)

        stop_cleanly(container, process, row)
        assert not (container.tmp / "tasklane-worker.heartbeat").exists(), (
            "the heartbeat goes with the worker"
        )
    finally:
        container.destroy()
        row.seconds += time.monotonic() - started


def test_worker_reports_stores_a_csv_report(images: dict[str, Image], services: Services, api: Api) -> None:
    started = time.monotonic()
    container, row = _worker(images, services, "worker-reports")
    try:
        env = container_env(services)
        row.proved += check_image(images["worker-reports"], "worker-reports", container, env)
        process = start_worker(container, env, row)

        today = datetime.now(UTC).date()
        accepted = api.client.post(
            "/v1/reports/sales",
            json={"start_date": str(today - timedelta(days=365)), "end_date": str(today), "format": "csv"},
            headers=api.headers,
        )
        assert accepted.status_code == 202, accepted.text
        task = api.wait_task(accepted.json()["task_id"])
        assert task["status"] == "completed", task
        result = task["result"]
        assert isinstance(result, dict)
        download = api.client.get(str(result["file_url"]))
        assert download.status_code == 200, download.text
        lines = download.text.strip().splitlines()
        assert len(lines) > 1, download.text[:500]
        stored = sql(services, "SELECT content_type, size_bytes FROM report_artifacts")
        assert [(kind.split(";")[0], size) for kind, size in stored] == [
            ("text/csv", len(download.content))
        ], stored
        row.proved.append(f"CSV sales report completed, stored and downloaded ({len(lines) - 1} rows)")
        leftovers = [p.name for p in container.tmp.iterdir() if p.name.startswith(SCRATCH_PREFIX)]
        assert not leftovers, f"the report's scratch files stay behind in /tmp: {leftovers}"
        check_heartbeat(container, env, row)

        stop_cleanly(container, process, row)
    finally:
        container.destroy()
        row.seconds += time.monotonic() - started


def test_worker_payments_credits_a_stored_payment_event(
    images: dict[str, Image], services: Services, api: Api
) -> None:
    started = time.monotonic()
    container, row = _worker(images, services, "worker-payments")
    try:
        env = container_env(services)
        row.proved += check_image(images["worker-payments"], "worker-payments", container, env)
        process = start_worker(container, env, row)

        bought = api.client.post(
            "/v1/credit-purchases", json={"credits": 25, "currency": "NGN"}, headers=api.headers
        )
        assert bought.status_code == 201, bought.text
        purchase = bought.json()
        body = paystack.charge_success(purchase["reference"], purchase["amount"])
        stored = api.client.post("/v1/webhooks/paystack", content=body, headers=paystack.headers(body))
        assert stored.status_code == 200, stored.text

        def relayed() -> str | None:  # the worker's relay thread publishes the stored event
            rows = sql(
                services, "SELECT task_id FROM payment_events WHERE reference = %s", purchase["reference"]
            )
            return str(rows[0][0]) if rows and rows[0][0] else None

        task_id: str = wait_for(relayed, timeout=30, what="the payments relay to queue the event")
        task = api.wait_task(task_id)
        assert task["status"] == "completed", task
        shown = api.client.get(f"/v1/credit-purchases/{purchase['purchase_id']}", headers=api.headers).json()
        assert shown["status"] == "paid", shown
        ledger = sql(services, "SELECT delta FROM credit_ledger WHERE reference = %s", purchase["reference"])
        assert [float(str(amount)) for (amount,) in ledger] == [25.0]
        row.proved.append("signed webhook stored by the API, relayed, credited once")
        check_heartbeat(container, env, row)

        stop_cleanly(container, process, row)
    finally:
        container.destroy()
        row.seconds += time.monotonic() - started


def test_beat_takes_the_lock_and_publishes_a_due_entry(images: dict[str, Image], services: Services) -> None:
    started = time.monotonic()
    row = ROWS.setdefault("beat", Row("tasklane-beat", images["beat"].size))
    container = ImageContainer(images["beat"], "beat")
    broker = services.redis.db_url(7)  # a database no worker consumes: what beat publishes stays queued
    overrides = {name: {"enabled": False} for name in SCHEDULE}
    overrides["cleanup-expired-artifacts"] = {"every": 2}
    try:
        env = container_env(
            services,
            TASKLANE_BROKER_URL=broker,
            TASKLANE_BEAT_MAX_LOOP_INTERVAL="0.5",
            TASKLANE_BEAT_LOCK_TIMEOUT="10",
            TASKLANE_BEAT_SCHEDULE_OVERRIDES=json.dumps(overrides),
        )
        row.proved += check_image(images["beat"], "beat", container, env)
        client = redis.Redis.from_url(broker)
        with BrokerWatcher(broker, ["maintenance"]) as watcher:
            process = container.start(env)
            wait_started(process, lambda: "beat: Acquired lock" in process.log(), "beat to take its lock")
            assert client.keys("tasklane:beat:*lock*"), client.keys("*")
            watcher.wait_for_count("maintenance.cleanup_expired_artifacts", 1, timeout=30)
            row.proved.append("RedBeat lock taken, due entry published")
            stop_cleanly(container, process, row)
        assert not client.keys("tasklane:beat:*lock*"), "beat releases its lock on SIGTERM"
        assert not list(container.tmp.iterdir()), f"beat wrote {list(container.tmp.iterdir())}"
        row.proved.append("lock released; nothing written, even to /tmp")
        client.close()
    finally:
        container.destroy()
        row.seconds += time.monotonic() - started


def test_api_stops_gracefully_on_sigterm(api: Api) -> None:
    started = time.monotonic()
    row = ROWS["api"]
    stop_cleanly(api.container, api.process, row)
    assert "Shutting down: Master" in api.process.log()
    row.seconds += time.monotonic() - started


def test_every_image_runs_from_a_read_only_root(images: dict[str, Image]) -> None:
    """Every row above ran with a read-only root filesystem as UID 10001; this checks none was skipped."""
    assert set(ROWS) == set(SERVICES)
    for row in ROWS.values():
        assert row.proved and row.proved[0].startswith("UID 10001, read-only root"), row
        assert row.stop is not None and row.stop.returncode == 0, row
