"""Error reports to Sentry (``TASKLANE_SENTRY_DSN``): the FastAPI, Celery and SQLAlchemy integrations, beat's
entries as Sentry Crons monitors, tenant and task as tags, and nothing secret in what leaves.

What is reported: an unexpected exception, once per attempt chain. A task's expected failures
(``PermanentTaskError``, a cancel: its ``throws``) and Celery's retries are not errors; a task that exhausts
its retries is reported once, by its final failure. An HTTP 4xx is the client's problem, not an error.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from tasklane.settings import Settings

if TYPE_CHECKING:
    from sentry_sdk.integrations import Integration

# Keys whose values never leave (matched case-insensitively, at any depth: headers, local variables, extra).
DENYLIST = (
    "x-paystack-signature", "signature", "x_paystack_signature", "smtp_password", "paystack_secret_key",
    "paystack_secrets", "signing_secret", "signing_key", "sentry_dsn", "database_url", "broker_url",
    "result_backend_url", "beat_redis_url", "dsn", "body", "raw_body", "html", "text", "content",
    "message_body", "email_body", "key", "api_key_hash", "key_hash", "secrets", "secret_key",
    # an email's rendering, its template data and its recipients: customers' data, not the error's
    "rendered", "context", "recipients",
)  # fmt: skip
# Values that are secrets wherever they appear: API keys, Paystack keys, passwords inside URLs.
_SECRET_VALUES = (
    (re.compile(r"\btl_[A-Za-z0-9_\-]{16,}"), "tl_[Filtered]"),
    (re.compile(r"\bsk_(?:live|test)_[A-Za-z0-9]+"), "sk_[Filtered]"),
    (re.compile(r"(\w+://[^:/@\s]*:)[^@\s]+@"), r"\1[Filtered]@"),
)
FILTERED = "[Filtered]"


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        for pattern, replacement in _SECRET_VALUES:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, dict):
        return {k: FILTERED if str(k).lower() in DENYLIST else _scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v) for v in value]
    return value


def scrub(event: Any, hint: Any = None) -> Any:
    """``before_send``: drop request bodies and cookies, filter denylisted keys and secret-looking values
    everywhere in the event."""
    request = event.get("request")
    if isinstance(request, dict):
        request.pop("data", None)
        request.pop("cookies", None)
    return _scrub_value(event)


def configure_sentry(settings: Settings, component: str, integrations: Sequence[Integration] = ()) -> bool:
    """Initialise Sentry for this process when a DSN is set, with the Celery and SQLAlchemy integrations
    and the process's own ``integrations`` (the API's FastAPI); False (nothing done) without a DSN."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.environment,
        release=f"tasklane@{version('tasklane-core')}",
        server_name=component,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        send_default_pii=False,
        # Beat's entries become Crons monitors (RedBeat included); the worker reports how each run ended.
        integrations=[CeleryIntegration(monitor_beat_tasks=True), SqlalchemyIntegration(), *integrations],
        event_scrubber=EventScrubber(denylist=[*DEFAULT_DENYLIST, *DENYLIST], recursive=True),
        before_send=scrub,
        before_send_transaction=scrub,
    )
    sentry_sdk.set_tag("component", component)
    return True


def tag_task(task_id: str | None, tenant_id: Any) -> None:
    """Tag what the current scope reports with the task and tenant (nothing to do without Sentry)."""
    import sentry_sdk

    if not sentry_sdk.is_initialized():
        return
    if task_id:
        sentry_sdk.set_tag("task_id", task_id)
    if tenant_id:
        sentry_sdk.set_tag("tenant_id", str(tenant_id))
