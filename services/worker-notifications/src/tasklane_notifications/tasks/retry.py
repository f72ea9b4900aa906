from __future__ import annotations

from typing import Any

from tasklane.settings import Settings
from tasklane_notifications.mailer import TransientDeliveryError


def email_task_options(settings: Settings) -> dict[str, Any]:
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
