from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from tests.harness.ports import free_port, port_open, wait_for


class RedisServer:
    """A private ``redis-server`` on a free port, nothing persisted; stop() and start() keep the port."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed; `make test` installs it")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.db_url(0)

    def db_url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--databases",
                "1000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), timeout=10, what=f"redis on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
        wait_for(lambda: not port_open(self.port), timeout=10, what="redis to stop")

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushall()


class RedisSentinel:
    """A Redis master watched by one Sentinel (a quorum of one), on free ports: enough to prove that every
    Redis client Tasklane holds finds its master through Sentinel."""

    MASTER = "tasklane-master"

    def __init__(self) -> None:
        self.master = RedisServer()
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._dir = tempfile.mkdtemp(prefix="tasklane-sentinel-")

    @property
    def url(self) -> str:
        """Kombu's spelling of a Sentinel set: the sentinels, not the master."""
        return f"sentinel://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.master.start()
        config = Path(self._dir) / "sentinel.conf"
        config.write_text(
            f"port {self.port}\nbind 127.0.0.1\ndir {self._dir}\n"
            f"sentinel monitor {self.MASTER} 127.0.0.1 {self.master.port} 1\n"
        )
        self.process = subprocess.Popen(
            [self.master.binary, str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), timeout=10, what=f"sentinel on {self.port}")

    def master_client(self) -> redis.Redis:
        return redis.Redis.from_url(self.master.url)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
        self.master.stop()
        shutil.rmtree(self._dir, ignore_errors=True)
