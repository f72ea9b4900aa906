"""Waiting for tasks to finish without a thread or a Redis connection per waiting request.

One background coroutine per API process holds a pattern subscription to the task-finished channel and
wakes the requests waiting on that task. A missed notice (Redis restarting, say) costs a waiting request
at most ``RECHECK_SECONDS`` before its next look at the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator

from tasklane import redis_urls
from tasklane.task_events import CHANNEL_PATTERN, CHANNEL_PREFIX

log = logging.getLogger(__name__)

RECHECK_SECONDS = 5.0


class TaskWaiters:
    def __init__(self, redis_url: str, sentinel_master: str | None = None) -> None:
        self._redis_url = redis_url
        self._sentinel_master = sentinel_master
        self._events: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="tasklane-task-waiters")

    async def stop(self) -> None:
        if self._listener is None:
            return
        # redis-py's pub/sub can swallow a cancellation that lands while it is still subscribing (a worker
        # stopped just after it started): cancel again until the listener has ended.
        while not self._listener.done():
            self._listener.cancel()
            await asyncio.wait({self._listener}, timeout=0.5)

    @contextlib.asynccontextmanager
    async def watch(self, task_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set when ``task_id`` is announced finished; register before looking at the record,
        so a task that finishes in between is not missed."""
        event = asyncio.Event()
        self._events[task_id].add(event)
        try:
            yield event
        finally:
            waiting = self._events.get(task_id)
            if waiting is not None:
                waiting.discard(event)
                if not waiting:
                    del self._events[task_id]

    async def _listen(self) -> None:
        while True:
            client = redis_urls.async_client(self._redis_url, self._sentinel_master, socket_connect_timeout=2)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.psubscribe(CHANNEL_PATTERN)
                    async for message in pubsub.listen():
                        if message["type"] == "pmessage":
                            self._wake(message["channel"].decode().removeprefix(CHANNEL_PREFIX))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("task-finished subscription lost (%s); retrying", exc)
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    def _wake(self, task_id: str) -> None:
        for event in self._events.get(task_id, ()):
            event.set()
