"""What beat publishes and when: one dict in code, adjustable per installation from settings.

Every entry carries ``expires``: a message still queued when its next run is near is dropped by the
worker rather than run stale (and a backlog never turns one missed tick into a burst of duplicates).
Times are UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from celery.schedules import BaseSchedule, crontab, schedule
from pydantic import ValidationError

from tasklane.contracts import TaskContract
from tasklane.contracts.maintenance import (
    CLEANUP_EXPIRED_ARTIFACTS,
    CLEANUP_OLD_TASK_RECORDS,
    DEACTIVATE_INACTIVE_USERS,
    RECONCILE_TASK_RECORDS,
)
from tasklane.contracts.notifications import (
    DISPATCH_DUE_REMINDERS,
    DISPATCH_EXPIRING_PRODUCTS,
    DISPATCH_LOW_STOCK_ALERTS,
    DISPATCH_STOCK_MOVEMENT_REPORTS,
)
from tasklane.contracts.payments import REDISPATCH_PAYMENT_EVENTS
from tasklane.settings import ConfigurationError
from tasklane_beat.settings import BeatSettings, ScheduleOverride

OVERRIDES = "TASKLANE_BEAT_SCHEDULE_OVERRIDES"
MINUTE = 60
HOUR = 60 * MINUTE

Timing: TypeAlias = BaseSchedule  # an interval (``schedule``) or a ``crontab``


@dataclass(frozen=True)
class Entry:
    contract: TaskContract[Any]
    timing: Timing
    expires: float
    kwargs: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        t = self.timing
        if isinstance(t, crontab):
            fields = (
                t._orig_minute,
                t._orig_hour,
                t._orig_day_of_month,
                t._orig_month_of_year,
                t._orig_day_of_week,
            )
            return "cron " + " ".join(str(f) for f in fields)
        return f"every {t.run_every.total_seconds():g}s"

    def due(self, last_run_at: datetime, now: datetime) -> datetime:
        """When this entry falls due after a run at ``last_run_at``: before ``now`` when it is overdue."""
        remaining: timedelta = self.timing.remaining_estimate(last_run_at)  # counted from the clock, now
        return now + remaining

    def next_run(self, last_run_at: datetime, now: datetime) -> datetime:
        """When beat will next publish this entry, given its last run (to the second)."""
        due = max(self.due(last_run_at, now), now)
        return (due + timedelta(microseconds=500_000)).replace(microsecond=0)


def every(seconds: float) -> schedule:
    return schedule(timedelta(seconds=seconds))


SCHEDULE: dict[str, Entry] = {
    # The seeds' six-hourly stock check; alerts dedupe per business and window, so a manual trigger in
    # between never double-sends.
    "send-low-stock-alerts": Entry(DISPATCH_LOW_STOCK_ALERTS, crontab(minute=0, hour="*/6"), expires=HOUR),
    # Before the working day starts, so owners can act on expiring stock the same day.
    "check-expiring-products": Entry(DISPATCH_EXPIRING_PRODUCTS, crontab(minute=0, hour=7), expires=2 * HOUR),
    # The weekly stock in/out summary, ready on Monday morning.
    "send-weekly-stock-movement": Entry(
        DISPATCH_STOCK_MOVEMENT_REPORTS,
        crontab(minute=0, hour=8, day_of_week="mon"),
        expires=4 * HOUR,
        kwargs={"period_days": 7},
    ),
    # Reminders are due to the minute; a tick that waited longer than a minute is superseded by the next.
    "dispatch-due-reminders": Entry(DISPATCH_DUE_REMINDERS, every(MINUTE), expires=55),
    # Finished reports are kept TASKLANE_ARTIFACT_RETENTION; hourly keeps storage close to that.
    "cleanup-expired-artifacts": Entry(CLEANUP_EXPIRED_ARTIFACTS, crontab(minute=15), expires=50 * MINUTE),
    # Nightly, in the quiet hours: finished task records past TASKLANE_TASK_RECORD_RETENTION_DAYS.
    "cleanup-old-task-records": Entry(CLEANUP_OLD_TASK_RECORDS, crontab(minute=0, hour=3), expires=2 * HOUR),
    # Nightly: users inactive for TASKLANE_USER_INACTIVITY_DAYS lose access (and stop getting alerts).
    "deactivate-inactive-users": Entry(
        DEACTIVATE_INACTIVE_USERS, crontab(minute=0, hour=2), expires=2 * HOUR
    ),
    # Task records are the truth: publish what was never published (the broker was away), retries that
    # waited on the record, and tasks whose message was lost. Twice a minute: deferred retries wait on it.
    "reconcile-task-records": Entry(RECONCILE_TASK_RECORDS, every(30), expires=25),
    # Backstop for the payments worker's own relay: stored webhook events that were never queued.
    "redispatch-payment-events": Entry(REDISPATCH_PAYMENT_EVENTS, every(5 * MINUTE), expires=4 * MINUTE),
}


def _timing(name: str, override: ScheduleOverride, current: Timing) -> Timing:
    if override.every is not None:
        return every(override.every)
    if override.cron is not None:
        fields = override.cron.split()
        if len(fields) != 5:
            raise ConfigurationError(
                f"{OVERRIDES}: {name}.cron must have five fields "
                f"(minute hour day-of-month month day-of-week), got {override.cron!r}"
            )
        try:
            timing = crontab(*fields)
            timing.remaining_estimate(datetime.now(timing.tz))
        except (ValueError, KeyError) as exc:
            raise ConfigurationError(
                f"{OVERRIDES}: {name}.cron {override.cron!r} is not a valid crontab: {exc}"
            ) from None
        return timing
    return current


def effective_schedule(settings: BeatSettings) -> dict[str, Entry]:
    """``SCHEDULE`` with the installation's overrides applied; disabled entries left out.

    Raises ``ConfigurationError`` naming the entry and field for an unknown entry, a bad crontab, or
    kwargs the task's contract would refuse, so a typo stops beat at start-up instead of at 3 a.m.
    """
    overrides = settings.beat_schedule_overrides
    unknown = sorted(set(overrides) - set(SCHEDULE))
    if unknown:
        raise ConfigurationError(
            f"{OVERRIDES}: unknown entries {', '.join(unknown)}; the schedule has {', '.join(SCHEDULE)}"
        )
    effective: dict[str, Entry] = {}
    for name, entry in SCHEDULE.items():
        override = overrides.get(name)
        if override is None:
            effective[name] = entry
            continue
        if not override.enabled:
            continue
        kwargs = {**entry.kwargs, **override.kwargs}
        try:
            entry.contract.validate(kwargs)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(
                f"{OVERRIDES}: {name}.kwargs rejected by {entry.contract.name}: {problems}"
            ) from None
        effective[name] = replace(
            entry,
            timing=_timing(name, override, entry.timing),
            expires=override.expires or entry.expires,
            kwargs=kwargs,
        )
    return effective


def disabled_entries(settings: BeatSettings) -> list[str]:
    return [name for name, o in settings.beat_schedule_overrides.items() if not o.enabled]


def celery_beat_schedule(entries: dict[str, Entry]) -> dict[str, dict[str, Any]]:
    """The entries as Celery's ``beat_schedule``: by task name, kwargs checked against the contract."""
    return {
        name: {
            "task": entry.contract.name,
            "schedule": entry.timing,
            "kwargs": entry.contract.message_kwargs(entry.contract.validate(entry.kwargs)),
            "options": {"expires": entry.expires},
        }
        for name, entry in entries.items()
    }
