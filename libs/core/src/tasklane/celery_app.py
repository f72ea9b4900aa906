"""The Celery application factory every Tasklane process (API, workers, beat) builds its app from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery

from tasklane.redis_urls import transport_options
from tasklane.routing import QUEUES, UnroutedTaskError, queue_for, route_task
from tasklane.settings import Settings

UNACKED_PREFIX = "unacked:"


class QueueTimeLimits:
    """Celery task annotation: each task's soft and hard time limits come from its queue's settings.

    Applied by Celery to every registered task, so no task repeats its limits in its decorator.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def annotate(self, task: Any) -> dict[str, int] | None:
        try:
            queue = queue_for(task.name)
        except UnroutedTaskError:
            return None
        limits = self._settings.time_limits(queue)
        return {"soft_time_limit": limits.soft, "time_limit": limits.hard}

    def annotate_any(self) -> None:
        return None


def unacked_keys(queues: Sequence[str]) -> dict[str, str]:
    """Kombu's Redis keys for the messages a worker consuming ``queues`` holds unacknowledged.

    Each set of queues keeps its own, so a worker's sweep restores only messages of its own queues, after
    its own visibility timeout: a short timeout for emails never redelivers a long report still running.
    """
    suffix = "+".join(sorted(queues))
    return {
        "unacked_key": f"{UNACKED_PREFIX}{suffix}",
        "unacked_index_key": f"unacked_index:{suffix}",
        "unacked_mutex_key": f"unacked_mutex:{suffix}",
    }


def create_celery_app(
    settings: Settings, *, name: str = "tasklane", queues: Sequence[str] | None = None
) -> Celery:
    """The app of one process. ``queues`` are what a worker consumes; publishers (API, beat) give none."""
    app = Celery(name, set_as_current=False)
    consumed = list(queues or QUEUES)
    app.conf.update(
        broker_url=settings.broker_url,
        result_backend=settings.effective_result_backend_url,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        task_track_started=True,
        # Tasks are idempotent, so a message is acknowledged only once its work is done, and a worker
        # that dies mid-task hands it back instead of losing it.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": settings.visibility_timeout(consumed),
            **(unacked_keys(consumed) if queues else {}),
            **transport_options(settings.broker_url, settings.redis_sentinel_master),
            # A worker that dies outright leaves its unacknowledged messages for the others to restore once
            # they are older than the visibility timeout. Kombu's default sweep runs every 100 s; every 5 s
            # costs one small Redis query and brings abandoned work back promptly.
            "unacked_restore_interval": 5,
            "unacked_restore_throttle": 1,
            "socket_connect_timeout": 5,
            "socket_timeout": 30,
        },
        result_expires=settings.result_expires,
        result_backend_transport_options=transport_options(
            settings.effective_result_backend_url, settings.redis_sentinel_master
        ),
        # Workers report what they receive, start and finish (Flower). A "sent" event would cost every
        # publish a second Redis round trip; celery_task_sent_total counts publishes in the publisher.
        worker_send_task_events=True,
        task_send_sent_event=False,
        broker_connection_retry_on_startup=True,
        task_publish_retry=True,
        task_publish_retry_policy={
            "max_retries": settings.publish_retries,
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        worker_soft_shutdown_timeout=settings.worker_soft_shutdown_timeout,
        task_routes=(route_task,),
        task_annotations=(QueueTimeLimits(settings),),
    )
    return app
