"""The benches' baseline worker: a Celery app built exactly as a Tasklane worker's (``create_celery_app``:
late acks, prefetch 1, the same transport options, routing and time limits) on the notifications queue, with
one task that does nothing. With ``BENCH_NOOP_TIMES`` set, each run notes when it started and ended in Redis
(``bench:noop:started`` / ``bench:noop:finished``, by task id), for the latency bench.

    celery --app benchmarks.noop_app worker --queues notifications --concurrency 1
"""

from __future__ import annotations

import os
import time
from typing import Any

import redis
from celery import signals

from benchmarks.workload import NOOP_TASK
from tasklane.celery_app import create_celery_app
from tasklane.settings import Settings, load_settings

settings = load_settings(Settings)
app = create_celery_app(settings, name="bench-noop", queues=("notifications",))
_times = redis.Redis.from_url(settings.broker_url) if os.environ.get("BENCH_NOOP_TIMES") else None


@app.task(name=NOOP_TASK)
def noop() -> None:
    """Nothing at all."""


if _times is not None:

    @signals.task_prerun.connect(weak=False)
    def _started(task_id: str, **_: Any) -> None:
        _times.hset("bench:noop:started", task_id, time.time())

    @signals.task_postrun.connect(weak=False)
    def _finished(task_id: str, **_: Any) -> None:
        _times.hset("bench:noop:finished", task_id, time.time())
