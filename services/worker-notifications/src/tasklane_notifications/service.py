"""What every notifications task module shares: the runtime this worker booted, its settings, the notifier,
and the options of every email task (Celery's retries for transient delivery failures, the rate limit)."""

from __future__ import annotations

from typing import Any

from tasklane.worker import current_runtime
from tasklane_notifications.mailer import TransientDeliveryError
from tasklane_notifications.notifier import Notifier
from tasklane_notifications.settings import NotificationsSettings


def email_task_options(settings: NotificationsSettings) -> dict[str, Any]:
    """Options of every email-sending task: Celery's own retries for transient delivery failures
    (exponential backoff, full jitter, bounded) and a rate limit that protects the SMTP relay."""
    return {
        "autoretry_for": (TransientDeliveryError,),
        "retry_backoff": settings.email_retry_backoff,
        "retry_backoff_max": settings.email_retry_backoff_max,
        "retry_jitter": True,
        "max_retries": settings.email_max_retries,
        "rate_limit": settings.email_rate_limit,
    }


runtime = current_runtime(NotificationsSettings)
settings = runtime.settings
notifier = Notifier(runtime)
EMAIL = email_task_options(settings)
