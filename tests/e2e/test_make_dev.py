"""`make dev` on embedded defaults: SQLite, a private redis-server, SMTP capture into .eml files."""

from __future__ import annotations

import os
import re
from email import message_from_bytes, policy
from pathlib import Path

import httpx

from tests.harness.ports import free_port, port_open, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.stack import REPO


def test_make_dev_serves_docs_and_delivers_a_welcome_email_to_the_mail_directory(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("api", "redis", "smtp")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKLANE_")}
    env.update(
        TASKLANE_DEV_DIR=str(tmp_path),
        TASKLANE_DEV_API_PORT=str(ports["api"]),
        TASKLANE_DEV_REDIS_PORT=str(ports["redis"]),
        TASKLANE_DEV_SMTP_PORT=str(ports["smtp"]),
    )
    stack = ManagedProcess("make-dev", ["make", "--no-print-directory", "dev"], env, cwd=REPO).start()
    base_url = f"http://127.0.0.1:{ports['api']}"
    try:
        wait_for(
            lambda: (
                stack.alive()
                and port_open(ports["api"])
                and httpx.get(f"{base_url}/readyz").status_code == 200
            ),
            timeout=120,
            interval=0.5,
            what="the dev stack to become ready",
        )
        key = re.search(r"Demo API key (tl_\S+)", stack.log())
        assert key, stack.log()
        assert httpx.get(f"{base_url}/docs").status_code == 200

        created = httpx.post(
            f"{base_url}/v1/users",
            json={"email": "dev@example.com", "name": "Dev"},
            headers={"Authorization": f"Bearer {key.group(1)}"},
        )
        assert created.status_code == 201, created.text

        mail_dir = tmp_path / "mail"
        emails = wait_for(lambda: sorted(mail_dir.glob("*.eml")), timeout=60, what="an .eml in the mail dir")
        message = message_from_bytes(emails[0].read_bytes(), policy=policy.default)
        assert message["To"] == "dev@example.com"
        assert message["Subject"].startswith("Welcome to Demo Shop")
        assert (tmp_path / "tasklane.db").exists()
        wait_for(lambda: "beat: Acquired lock" in stack.log(), timeout=60, what="beat to run its schedule")
    finally:
        stack.interrupt()
        try:
            stack.wait(30)
        finally:
            stack.kill()
    for port in ports.values():
        assert not port_open(port), f"port {port} still open after Ctrl-C:\n{stack.log()}"
