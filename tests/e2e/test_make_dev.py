"""`make dev` on embedded defaults: SQLite, a private redis-server, SMTP capture into .eml files; and the
README's commands, run as printed in a second shell against it."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from email import message_from_bytes, policy
from pathlib import Path

import httpx

from tests.harness.ports import free_port, port_open, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.stack import REPO
from tools.readme import section


def readme_dev_commands() -> list[str]:
    """The README's dev commands: each `$ ` line with its `\\` continuations; other lines are output."""
    commands: list[str] = []
    continued = False
    for line in section("dev-commands").splitlines():
        if continued:
            commands[-1] += "\n" + line
        elif line.startswith("$ "):
            commands.append(line[2:])
        continued = line.endswith("\\")
    return commands


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

        # The README's commands, in a fresh shell that only sourced what `make dev` wrote.
        script = "\n".join(["set -euo pipefail", *readme_dev_commands()]).replace(".dev/", f"{tmp_path}/")
        second_terminal = {k: v for k, v in env.items() if not k.startswith("TASKLANE_")}
        second_terminal["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # nothing of the workspace's on it
        shell = subprocess.run(
            ["bash", "-c", script],
            env=second_terminal,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert shell.returncode == 0, f"{shell.stdout}\n{shell.stderr}"
        assert '"name":"notifications.send_welcome_email","status":"completed"' in shell.stdout
        assert '{"status":"queued"}' in shell.stdout  # the signed webhook was verified and stored
        assert "send-low-stock-alerts" in shell.stdout  # `tasklane-beat schedule` read this stack's Redis
        assert "API key for Demo Shop" in shell.stdout
    finally:
        stack.interrupt()
        try:
            stack.wait(30)
        finally:
            stack.kill()
    for name, port in ports.items():
        assert not port_open(port), f"{name} port {port} still open after Ctrl-C:\n{stack.log()}"


def test_dev_processes_get_their_soft_shutdown_time_on_ctrl_c(tmp_path: Path) -> None:
    # A process that needs 8 s to stop, longer than the 5 s honcho allows before it kills.
    slow = tmp_path / "slow.py"
    slow.write_text(
        "import signal, sys, time\n"
        "def stop(*_):\n"
        "    time.sleep(8)\n"
        "    print('stopped cleanly', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        "    time.sleep(1)\n"
    )
    # honcho's 5 s count starts when the first process exits, as redis and the SMTP capture do at once.
    quick = f"{sys.executable} -c 'import time; time.sleep(1000)'"
    (tmp_path / "Procfile").write_text(f"slow: {sys.executable} {slow}\nquick: {quick}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKLANE_")}
    env |= {"TASKLANE_ENVIRONMENT": "development", "TASKLANE_WORKER_SOFT_SHUTDOWN_TIMEOUT": "10"}
    procs = ManagedProcess(
        "dev-procs",
        [sys.executable, str(REPO / "scripts/dev_procs.py"), "start", "-f", str(tmp_path / "Procfile")],
        env,
        cwd=tmp_path,
    ).start()
    try:
        wait_for(lambda: "ready" in procs.log(), timeout=30, what="the slow process to start")
        started = time.monotonic()
        os.killpg(procs.pid, signal.SIGINT)  # Ctrl-C in the terminal
        procs.wait(30)
    finally:
        procs.kill()
    assert "stopped cleanly" in procs.log(), procs.log()
    assert time.monotonic() - started >= 8
    assert "SIGKILL" not in procs.log()
