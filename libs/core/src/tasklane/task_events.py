"""Task-finished notices over Redis pub/sub, so the API can wait for a task without polling it.

Workers (and the API, on cancel) publish the task id when a task ends; each API process keeps one
pattern subscription and wakes the requests waiting on that id.
"""

from __future__ import annotations

import logging

import redis

from tasklane import redis_urls

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "tasklane:task-finished:"
CHANNEL_PATTERN = CHANNEL_PREFIX + "*"


def channel(task_id: str) -> str:
    return CHANNEL_PREFIX + task_id


class TaskEventPublisher:
    def __init__(self, redis_url: str, sentinel_master: str | None = None) -> None:
        self._client = redis_urls.client(
            redis_url, sentinel_master, socket_connect_timeout=2, socket_timeout=2
        )

    def finished(self, task_id: str, status: str) -> None:
        """Best effort: a lost notice only makes a waiting client wait for its next database check."""
        try:
            self._client.publish(channel(task_id), status)
        except redis.RedisError as exc:
            log.warning("could not publish the end of task %s: %s", task_id, exc)

    def close(self) -> None:
        self._client.close()
