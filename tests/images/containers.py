"""Running a built image with buildah, as close to a locked-down pod as this machine allows.

Each ``ImageContainer`` is one working container of an image. Its root filesystem is bind-mounted
read-only before anything runs (buildah's chroot isolation has no ``--read-only``; a read-only bind of the
container's own root is inherited by the chroot), and a fresh host folder is its ``/tmp`` (the pod's
``emptyDir``), shared by every command run in it, so probes see what the service wrote. ``/run`` is a
root-owned folder of its own because buildah writes ``/run/.containerenv`` at each run and cannot run
otherwise; the service's user can no more write there than anywhere else outside ``/tmp``. Commands run with
the image's own user and environment on the host network. buildah's chroot isolation has no PID
namespace and does not relay signals, so ``stop`` sends SIGTERM to the service process itself, as a
kubelet does to a container's PID 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness.ports import wait_for
from tests.harness.processes import ManagedProcess

STORAGE_DRIVER = os.environ.get("BUILDAH_STORAGE_DRIVER", "vfs")


def buildah(*args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        ["buildah", "--storage-driver", STORAGE_DRIVER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"buildah {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


@dataclass(frozen=True)
class Image:
    """What `buildah inspect` says about a built image."""

    ref: str
    config: dict[str, Any]
    labels: dict[str, str]
    layer_sizes: list[int]

    @classmethod
    def inspect(cls, ref: str) -> Image:
        data = json.loads(buildah("inspect", "--type", "image", ref))
        config = data["OCIv1"]["config"]
        sizes = [int(layer["size"]) for layer in json.loads(data["Manifest"])["layers"]]
        return cls(ref, config, config.get("Labels") or {}, sizes)

    @property
    def size(self) -> int:
        return sum(self.layer_sizes)

    @property
    def env(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.config.get("Env", []))


@dataclass
class Stopped:
    returncode: int
    seconds: float
    how: str  # "exit 0", "exit 1", "killed (terminated)"...


class ImageContainer:
    def __init__(self, image: Image, name: str) -> None:
        self.image = image
        self.name = f"tasklane-smoke-{name}-{uuid.uuid4().hex[:6]}"
        self.hostname = name
        buildah("from", "--quiet", "--name", self.name, image.ref, timeout=300)
        self.rootfs = Path(buildah("mount", self.name).strip())
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{self.name}-tmp-"))
        self.tmp.chmod(0o1777)
        # buildah creates and removes /run/.containerenv around every run, so /run is a folder of its own
        # (root's, as in the image: the service's user cannot write it either).
        self.run = Path(tempfile.mkdtemp(prefix=f"{self.name}-run-"))
        shutil.copytree(self.rootfs / "run", self.run, symlinks=True, dirs_exist_ok=True)
        self.run.chmod(0o755)
        self._mounts: list[Path] = []
        self._mount("--bind", self.rootfs, self.rootfs)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(self.rootfs)], check=True)
        self._mount("--bind", self.run, self.rootfs / "run")

    def _mount(self, option: str, source: Path, target: Path) -> None:
        subprocess.run(["mount", option, str(source), str(target)], check=True)
        self._mounts.append(target)
        self.processes: list[ManagedProcess] = []

    def _argv(self, argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
        settings = [f"--env={key}={value}" for key, value in env.items()]
        return [
            "buildah", "--storage-driver", STORAGE_DRIVER, "run", "--isolation", "chroot",
            "--hostname", self.hostname, "--volume", f"{self.tmp}:/tmp", *settings,
            self.name, "--", *argv,
        ]  # fmt: skip

    @property
    def default_command(self) -> list[str]:
        return list(self.image.config.get("Entrypoint") or []) + list(self.image.config.get("Cmd") or [])

    def start(self, env: Mapping[str, str], argv: Sequence[str] | None = None) -> ManagedProcess:
        """Start ``argv`` (the image's default command if not given) in the background."""
        process = ManagedProcess(
            f"image-{self.hostname}", self._argv(argv or self.default_command, env), os.environ
        ).start()
        self.processes.append(process)
        return process

    def exec(
        self, argv: Sequence[str], env: Mapping[str, str], timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run a one-off command (a probe, a CLI call) in this container and wait for it."""
        return subprocess.run(
            self._argv(argv, env), capture_output=True, text=True, timeout=timeout, check=False
        )

    def service_pid(self, process: ManagedProcess) -> int:
        """The service's own process: the first one under buildah's run, chroot and exec helpers."""

        def find() -> int | None:
            pid = process.pid
            while True:
                argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                if not Path(argv0.decode()).name.startswith("buildah"):
                    return pid
                # buildah is Go: any of its threads may have started the child.
                children = [
                    int(child)
                    for task in Path(f"/proc/{pid}/task").iterdir()
                    for child in (task / "children").read_text().split()
                ]
                if not children:
                    return None
                pid = min(children)

        found: int = wait_for(find, timeout=30, what=f"the {self.hostname} service process")
        return found

    def stop(self, process: ManagedProcess, grace: float) -> Stopped:
        """SIGTERM to the service; its exit code and how long it took, or SIGKILL after ``grace``."""
        pid = self.service_pid(process)
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        try:
            returncode = process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            return Stopped(-9, time.monotonic() - started, f"still running after {grace}s: killed")
        seconds = time.monotonic() - started
        # buildah exits with its child's status, and says how a failed child ended.
        said = re.findall(r"subprocess exited (?:with status (\d+)|on (\w+))", process.log())
        if returncode == 0 or not said:
            return Stopped(returncode, seconds, f"exit {returncode}")
        status, killed_by = said[-1]
        return Stopped(returncode, seconds, f"exit {status}" if status else f"killed ({killed_by})")

    def destroy(self) -> None:
        for process in self.processes:
            process.kill()
            process.log_path.unlink(missing_ok=True)  # failures quote its tail
        for target in reversed(self._mounts):
            with contextlib.suppress(subprocess.CalledProcessError):
                subprocess.run(["umount", str(target)], check=True, capture_output=True)
        with contextlib.suppress(RuntimeError):
            buildah("rm", self.name)
        shutil.rmtree(self.tmp, ignore_errors=True)
        shutil.rmtree(self.run, ignore_errors=True)
