"""Render -> run: the commands and environment the chart gives each pod start that service.

The chart is rendered with its default values; the migration Job's, the API's, each worker set's and beat's
containers (and their init containers) are run as processes from the workspace's venv, with the command,
arguments and environment of the rendered objects (ConfigMap and Secret references resolved from the render).
Only what cannot be the same here is rewritten: the hosts (the bundled PostgreSQL and Redis become this
session's loopback servers, on a fresh database and a fresh Redis database number), the SMTP relay, the API's
port and the worker heartbeat file (a shared machine's /tmp).
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tasklane.celery_app import create_celery_app
from tasklane.contracts.maintenance import CLEANUP_EXPIRED_ARTIFACTS, CleanupExpiredArtifacts
from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.contracts.payments import REDISPATCH_PAYMENT_EVENTS, RedispatchPaymentEvents
from tasklane.contracts.reports import EXPORT_CUSTOMERS, ExportCustomers
from tasklane.db.engine import Database
from tasklane.db.models import TaskStatus
from tasklane.settings import Settings
from tests.chart.helm import Manifest, container, find, name, one, pod_spec, render_cached, resolved_env
from tests.harness.ports import free_port, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.seed import add_user
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import BIN, Services, fresh_broker_url
from tests.harness.tasks import run_task

pytestmark = pytest.mark.timeout(240)

# A task of each queue, published as beat or another service would.
QUEUE_TASKS: dict[str, Any] = {
    "maintenance": (CLEANUP_EXPIRED_ARTIFACTS, lambda _b, _u: CleanupExpiredArtifacts()),
    "payments": (REDISPATCH_PAYMENT_EVENTS, lambda _b, _u: RedispatchPaymentEvents()),
    "reports": (EXPORT_CUSTOMERS, lambda business, _u: ExportCustomers(business_id=business, format="csv")),
    "notifications": (SEND_WELCOME_EMAIL, lambda _b, user: SendWelcomeEmail(user_id=user)),
}


def replace_host(url: str, netloc: str, path: str | None = None) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, netloc, parts.path if path is None else path, parts.query, ""))


class Pods:
    """The rendered pods' containers as local processes, with only the hosts rewritten."""

    def __init__(
        self, manifests: list[Manifest], services: Services, smtp: SmtpServer, workdir: Path
    ) -> None:
        self.manifests = manifests
        self.workdir = workdir
        self.processes: list[ManagedProcess] = []
        self.metrics_ports: dict[str, int] = {}
        database = f"chart_{uuid.uuid4().hex[:8]}"
        chart_url = self.secret("database-url")
        self.database_url = self._create_database(services, chart_url, database)
        self.broker_url = fresh_broker_url(services)
        self.smtp_port = smtp.port

    def secret(self, key: str) -> str:
        (secret,) = find(self.manifests, "Secret", name("secrets"))
        return base64.b64decode(secret["data"][key]).decode()

    @staticmethod
    def _create_database(services: Services, chart_url: str, database: str) -> str:
        """A fresh database owned by the chart's role, so the chart's user and password stay in the URL."""
        import psycopg

        user = urlsplit(chart_url).username
        admin = f"postgresql://postgres@127.0.0.1:{services.postgres.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            if not exists:
                conn.execute(f'CREATE ROLE "{user}" LOGIN')
            conn.execute(f'CREATE DATABASE "{database}" OWNER "{user}"')
        userinfo = urlsplit(chart_url).netloc.rsplit("@", 1)[0]
        return replace_host(chart_url, f"{userinfo}@127.0.0.1:{services.postgres.port}", f"/{database}")

    def env(self, spec: Mapping[str, Any], **overrides: str) -> dict[str, str]:
        rendered = resolved_env(self.manifests, spec)
        for key in ("TASKLANE_DATABASE_URL",):
            if key in rendered:
                rendered[key] = self.database_url
        for key in ("TASKLANE_BROKER_URL", "TASKLANE_RESULT_BACKEND_URL", "TASKLANE_BEAT_REDIS_URL"):
            if key in rendered:
                # The chart's URL carries the bundled Redis's password; the loopback Redis has none.
                rendered[key] = self.broker_url
        if "TASKLANE_SMTP_HOST" in rendered:
            rendered.update(TASKLANE_SMTP_HOST="127.0.0.1", TASKLANE_SMTP_PORT=str(self.smtp_port))
        base = {k: v for k, v in os.environ.items() if not k.startswith("TASKLANE_")}
        base["PATH"] = f"{BIN}{os.pathsep}{base.get('PATH', '')}"
        return {**base, **rendered, **overrides}

    @staticmethod
    def argv(spec: Mapping[str, Any]) -> list[str]:
        command = [*spec["command"], *spec.get("args", [])]
        return [str(BIN / command[0]), *command[1:]]

    def run(self, label: str, spec: Mapping[str, Any], timeout: float = 120, **overrides: str) -> str:
        """Run a container to completion (a Job, an init container, a probe); its output, or fail."""
        return self.run_all([(label, spec, overrides)], timeout)[label]

    def run_all(
        self, containers: list[tuple[str, Mapping[str, Any], Mapping[str, str]]], timeout: float = 120
    ) -> dict[str, str]:
        """Run containers side by side to completion, as pods start theirs; each one's output, or fail."""
        running = {
            label: subprocess.Popen(
                self.argv(spec),
                env=self.env(spec, **overrides),
                cwd=self.workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for label, spec, overrides in containers
        }
        outputs = {}
        for label, process in running.items():
            try:
                output, _ = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
            outputs[label] = output
            assert process.returncode == 0, f"{label} exited {process.returncode}:\n{output}"
        return outputs

    def start(self, label: str, spec: Mapping[str, Any], **overrides: str) -> ManagedProcess:
        """Start a long-running container. Its metrics port, shared by every pod in a cluster (each has its
        own network), gets a free loopback port of its own here: ``metrics_ports[label]``."""
        env = self.env(spec, **overrides)
        if "TASKLANE_METRICS_PORT" in env:
            self.metrics_ports[label] = free_port()
            env["TASKLANE_METRICS_PORT"] = str(self.metrics_ports[label])
        process = ManagedProcess(label, self.argv(spec), env, cwd=self.workdir).start()
        self.processes.append(process)
        return process

    def stop(self) -> None:
        """SIGTERM to every process at once, as a namespace deletion would; SIGKILL after 30 s."""
        for process in self.processes:
            process.signal(signal.SIGTERM)
        for process in self.processes:
            process.stop(timeout=30)


@pytest.fixture
def pods(services: Services, smtp: SmtpServer, tmp_path: Path) -> Iterator[Pods]:
    running = Pods(render_cached(), services, smtp, tmp_path)
    yield running
    running.stop()


def init_containers(manifest: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(manifest)
    assert spec is not None
    return list(spec.get("initContainers", []))


def workers(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {
        d["metadata"]["labels"]["tasklane-worker-set"]: d
        for d in find(manifests, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    }


def test_each_rendered_pod_starts_its_service_against_real_postgresql_and_redis(
    pods: Pods, smtp: SmtpServer
) -> None:
    manifests = pods.manifests
    # The migration Job migrates the empty database.
    (job,) = find(manifests, "Job")
    migrated = pods.run("migrations", container(job, "migrations"))
    assert "database at revision" in migrated

    # Every workload's init container finds this release's schema and lets the pod start.
    deployments = [
        one(manifests, "Deployment", name("api")),
        one(manifests, "Deployment", name("beat")),
        *workers(manifests).values(),
    ]
    inits = [
        (deployment["metadata"]["name"], init_containers(deployment)[0], {}) for deployment in deployments
    ]
    for output in pods.run_all(inits).values():
        assert "database at revision" in output

    # The API, each worker set and beat start side by side, as their pods would.
    api_port = free_port()
    api_spec = container(one(manifests, "Deployment", name("api")), "api")
    api = pods.start("chart-api", api_spec, TASKLANE_API_BIND=f"127.0.0.1:{api_port}")
    base_url = f"http://127.0.0.1:{api_port}"
    heartbeats = {}
    started = {}
    for set_name, deployment in workers(manifests).items():
        heartbeats[set_name] = pods.workdir / f"{set_name}.heartbeat"
        started[set_name] = pods.start(
            f"chart-worker-{set_name}",
            container(deployment, "worker"),
            TASKLANE_WORKER_HEARTBEAT_FILE=str(heartbeats[set_name]),
        )
    beat = pods.start("chart-beat", container(one(manifests, "Deployment", name("beat")), "beat"))

    # The API serves /readyz (PostgreSQL and Redis both answer).
    def ready() -> bool:
        assert api.alive(), api.log()
        return httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200

    wait_for(ready, timeout=60, interval=0.3, what="the rendered API to answer /readyz")

    settings = Settings(
        database_url=pods.database_url,
        broker_url=pods.broker_url,
        signing_secret=pods.secret("signing-secret"),
    )
    celery = create_celery_app(settings)
    database = Database(settings)
    background = ThreadPoolExecutor(max_workers=1)
    try:
        for set_name, deployment in workers(manifests).items():
            worker = container(deployment, "worker")
            queues = {e["name"]: e.get("value") for e in worker["env"]}["TASKLANE_WORKER_QUEUES"].split(",")
            node = f"{queues[0]}@{socket.gethostname()}"

            def answers(node: str = node, process: ManagedProcess = started[set_name]) -> bool:
                assert process.alive(), process.log()
                return bool(celery.control.ping(destination=[node], timeout=0.5))

            wait_for(answers, timeout=90, interval=0.3, what=f"worker {node} to answer a ping")
        # Each set's liveness and readiness probes, as rendered, pass (run while the tasks below run: the
        # readiness ping collects replies for its whole --timeout).
        probes = []
        for set_name, deployment in workers(manifests).items():
            worker = container(deployment, "worker")
            for probe in ("livenessProbe", "readinessProbe"):
                command = {**worker, "command": worker[probe]["exec"]["command"], "args": []}
                heartbeat = {"TASKLANE_WORKER_HEARTBEAT_FILE": str(heartbeats[set_name])}
                probes.append((f"{set_name} {probe}", command, heartbeat))
        probing = background.submit(pods.run_all, probes, 90)

        # A business created with the CLI in the API container, as NOTES.txt and `make kind-smoke` do.
        created = pods.run(
            "create-business",
            {**api_spec, "command": ["tasklane", "admin", "create-business", "--name", "Chart Shop",
                                     "--email", "owner@chart.test"]},
        )  # fmt: skip
        business = uuid.UUID(created.split("business ", 1)[1].split(" ", 1)[0])
        user = add_user(database, business, "staff@chart.test", name="Staff")

        for set_name, deployment in workers(manifests).items():
            env = {e["name"]: e.get("value") for e in container(deployment, "worker")["env"]}
            for queue in env["TASKLANE_WORKER_QUEUES"].split(","):
                contract, payload = QUEUE_TASKS[queue]
                record = run_task(celery, database, contract, payload(business, user.id), timeout=60)
                assert record.status == TaskStatus.COMPLETED, (set_name, queue, record.error)
                assert record.id in started[set_name].log(), f"{set_name} did not run the {queue} task"
        assert smtp.wait_for_message_to("staff@chart.test", timeout=30)
        assert len(probing.result(timeout=120)) == len(probes)

        # Beat takes its RedBeat lock.
        wait_for(lambda: "beat: Acquired lock" in beat.log(), timeout=60, what="beat to take its lock")

        # `helm test`'s pod passes against the running API.
        test_pod = one(manifests, "Pod", name("test"))
        output = pods.run("helm test", container(test_pod, "api-answers"), API_URL=base_url)
        assert "/openapi.json: OpenAPI" in output

        # Each process serves the metrics its pod's `metrics` port promises (the PodMonitor scrapes them).
        expected = {"chart-api": "http_requests_total", "chart-beat": "tasklane_beat_last_run_age_seconds"}
        expected |= {f"chart-worker-{set_name}": "celery_worker_up" for set_name in workers(manifests)}
        assert set(pods.metrics_ports) == set(expected)
        for label, metric in expected.items():
            page = httpx.get(f"http://127.0.0.1:{pods.metrics_ports[label]}/metrics", timeout=5).text
            assert f"# TYPE {metric}" in page, f"{label} serves no {metric}:\n{page[:2000]}"
    finally:
        background.shutdown(wait=True, cancel_futures=True)
        celery.close()
        database.engine.dispose()
