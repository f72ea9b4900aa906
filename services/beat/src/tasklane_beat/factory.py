"""Building beat's Celery app: it publishes only, by task name, and keeps its schedule state in Redis."""

from __future__ import annotations

from celery import Celery

from tasklane.celery_app import create_celery_app
from tasklane.redis_urls import redbeat_options
from tasklane_beat.schedule import celery_beat_schedule, effective_schedule
from tasklane_beat.settings import BeatSettings

SCHEDULER = "redbeat.RedBeatScheduler"
KEY_PREFIX = "tasklane:beat:"


def create_beat_app(settings: BeatSettings) -> Celery:
    """A Celery app whose beat keeps its schedule state and lock in Redis (celery-redbeat).

    The lock is what makes a second beat (a rolling update's new pod) wait instead of publishing
    alongside the first; it expires ``beat_lock_timeout`` after a beat that died without releasing it.
    """
    app = create_celery_app(settings, name="tasklane-beat")
    redis_url, redis_options = redbeat_options(
        settings.effective_beat_redis_url, settings.redis_sentinel_master
    )
    app.conf.update(
        beat_schedule=celery_beat_schedule(effective_schedule(settings)),
        beat_scheduler=SCHEDULER,
        beat_max_loop_interval=settings.beat_max_loop_interval,
        redbeat_redis_url=redis_url,
        redbeat_redis_options=redis_options,
        redbeat_key_prefix=KEY_PREFIX,
        redbeat_lock_timeout=settings.beat_lock_timeout,
    )
    return app
