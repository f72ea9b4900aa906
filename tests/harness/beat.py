"""Running beat as deployed, and watching what it publishes on a broker nobody consumes."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import redis

from tests.harness.ports import wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.stack import BIN, REPO


def start_beat(env: Mapping[str, str], name: str = "beat") -> ManagedProcess:
    """Start ``tasklane-beat`` and wait until it runs (or waits for the lock another beat holds)."""
    process = ManagedProcess(name, [str(BIN / "tasklane-beat")], env, cwd=REPO).start()
    try:
        wait_for(lambda: "beat: Starting..." in process.log(), timeout=60, what=f"{name} to start")
    except TimeoutError as exc:
        process.kill()
        raise AssertionError(f"{exc}\n--- {name} log ---\n{process.log()}") from None
    return process


def holds_lock(beat: ManagedProcess) -> bool:
    return "beat: Acquired lock" in beat.log()


@dataclass(frozen=True)
class Published:
    task: str
    task_id: str
    seen_at: float  # time.monotonic() when the watcher first saw the message
    expires: str | None


class BrokerWatcher:
    """Polls the queue lists of a Redis broker and notes each new message once, with when it appeared."""

    def __init__(self, broker_url: str, queues: Iterable[str], interval: float = 0.05) -> None:
        self._redis = redis.Redis.from_url(broker_url)
        self._queues = list(queues)
        self._interval = interval
        self._seen: dict[str, Published] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BrokerWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._redis.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            for queue in self._queues:
                for raw in self._redis.lrange(queue, 0, -1):
                    headers = json.loads(raw)["headers"]
                    with self._lock:
                        if headers["id"] not in self._seen:
                            self._seen[headers["id"]] = Published(
                                headers["task"], headers["id"], now, headers.get("expires")
                            )
            self._stop.wait(self._interval)

    def published(self, task: str | None = None) -> list[Published]:
        with self._lock:
            found = [p for p in self._seen.values() if task is None or p.task == task]
        return sorted(found, key=lambda p: p.seen_at)

    def times(self, task: str) -> list[float]:
        return [p.seen_at for p in self.published(task)]

    def wait_for_count(self, task: str, count: int, timeout: float) -> list[float]:
        wait_for(lambda: len(self.times(task)) >= count, timeout=timeout, what=f"{count} x {task}")
        return self.times(task)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]
