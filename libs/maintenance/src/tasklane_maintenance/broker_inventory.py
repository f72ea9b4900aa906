"""What the Redis broker holds right now: task ids waiting in a queue, and those workers hold unacknowledged.

The reconciler asks before it calls a task's message lost. It reads kombu's own structures: each queue is a
list of JSON messages, and each set of workers keeps the messages it has taken in a hash (``unacked``, or
``unacked:<queues>`` per worker set, see ``celery_app.unacked_keys``), delayed retries included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from celery import Celery

from tasklane.celery_app import UNACKED_PREFIX


def _task_id(raw: bytes | str) -> str | None:
    try:
        message = json.loads(raw)
    except ValueError:
        return None
    if isinstance(message, list):  # an unacknowledged entry: [message, exchange, routing key]
        message = message[0] if message else {}
    headers = message.get("headers") if isinstance(message, dict) else None
    task_id = headers.get("id") if isinstance(headers, dict) else None
    return str(task_id) if task_id else None


class BrokerInventory:
    """A read-only look at the broker through the app's own connection (so a Sentinel URL works too)."""

    def __init__(self, celery: Celery, *, scan_limit: int) -> None:
        self._celery = celery
        self._scan_limit = scan_limit

    def __enter__(self) -> BrokerInventory:
        self._connection = self._celery.connection_for_read()
        self._client: Any = self._connection.default_channel.client
        return self

    def __exit__(self, *_: object) -> None:
        self._connection.release()

    def _ids(self, raws: Iterable[bytes | str]) -> set[str]:
        return {task_id for raw in raws if (task_id := _task_id(raw))}

    def _unacked_hashes(self) -> Iterator[bytes]:
        for key in self._client.scan_iter(match="unacked*", count=1000):
            name = key.decode() if isinstance(key, bytes) else key
            if name == UNACKED_PREFIX.rstrip(":") or name.startswith(UNACKED_PREFIX):
                yield key

    def held(self) -> set[str]:
        """Ids of every task a worker has taken and not acknowledged (running, or waiting out a retry)."""
        return {task_id for key in self._unacked_hashes() for task_id in self._ids(self._client.hvals(key))}

    def waiting(self, queue: str) -> set[str] | None:
        """Ids of the tasks in ``queue``; None when the queue is longer than the scan limit."""
        if self._client.llen(queue) > self._scan_limit:
            return None
        return self._ids(self._client.lrange(queue, 0, -1))
