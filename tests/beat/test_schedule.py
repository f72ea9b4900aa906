"""The schedule in code, what an installation can change about it, and how beat refuses a bad change."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta

import pytest
from celery.schedules import crontab

from tasklane.settings import ConfigurationError
from tasklane_beat.schedule import SCHEDULE, Entry, celery_beat_schedule, effective_schedule
from tasklane_beat.settings import BeatSettings
from tests.harness.stack import BIN, Services, fresh_broker_url, tasklane_env

DEFAULTS = {
    "send-low-stock-alerts": ("notifications.dispatch_low_stock_alerts", "cron 0 */6 * * *"),
    "check-expiring-products": ("notifications.dispatch_expiring_products", "cron 0 7 * * *"),
    "send-weekly-stock-movement": ("notifications.dispatch_stock_movement_reports", "cron 0 8 * * mon"),
    "dispatch-due-reminders": ("notifications.dispatch_due_reminders", "every 60s"),
    "cleanup-expired-artifacts": ("maintenance.cleanup_expired_artifacts", "cron 15 * * * *"),
    "cleanup-old-task-records": ("maintenance.cleanup_old_task_records", "cron 0 3 * * *"),
    "deactivate-inactive-users": ("maintenance.deactivate_inactive_users", "cron 0 2 * * *"),
    "reconcile-task-records": ("maintenance.reconcile_task_records", "every 30s"),
    "redispatch-payment-events": ("payments.redispatch_stored_events", "every 300s"),
}


def settings_with(overrides: dict[str, object]) -> BeatSettings:
    return BeatSettings(environment="development", beat_schedule_overrides=overrides)  # type: ignore[arg-type]


def period(entry: Entry) -> timedelta:
    """Shortest time between two runs of the entry."""
    if isinstance(entry.timing, crontab):
        return timedelta(hours=1) if entry.timing._orig_hour == "*" else timedelta(hours=6)
    return entry.timing.run_every  # type: ignore[no-any-return]


def test_the_default_schedule_is_the_documented_one() -> None:
    described = {
        name: (e.contract.name, e.describe()) for name, e in effective_schedule(settings_with({})).items()
    }
    assert described == DEFAULTS


@pytest.mark.parametrize("name", sorted(SCHEDULE))
def test_every_entry_expires_before_its_next_run_so_a_late_message_is_dropped(name: str) -> None:
    entry = SCHEDULE[name]
    assert 0 < entry.expires < period(entry).total_seconds()
    message = celery_beat_schedule({name: entry})[name]
    assert message["options"] == {"expires": entry.expires}
    assert message["task"] == entry.contract.name


def test_overrides_change_an_interval_or_crontab_add_kwargs_and_disable_entries() -> None:
    entries = effective_schedule(
        settings_with(
            {
                "send-low-stock-alerts": {"every": 3600},
                "check-expiring-products": {"cron": "30 5 * * *", "kwargs": {}, "expires": 600},
                "send-weekly-stock-movement": {"kwargs": {"period_days": 14}},
                "deactivate-inactive-users": {"enabled": False},
            }
        )
    )
    assert entries["send-low-stock-alerts"].describe() == "every 3600s"
    assert entries["check-expiring-products"].describe() == "cron 30 5 * * *"
    assert entries["check-expiring-products"].expires == 600
    assert entries["send-weekly-stock-movement"].kwargs == {"period_days": 14}
    assert entries["send-weekly-stock-movement"].describe() == "cron 0 8 * * mon", "timing untouched"
    assert "deactivate-inactive-users" not in entries
    assert entries["cleanup-old-task-records"] == SCHEDULE["cleanup-old-task-records"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"send-low-stok-alerts": {"every": 60}}, "unknown entries send-low-stok-alerts"),
        (
            {"check-expiring-products": {"cron": "0 7 * *"}},
            "check-expiring-products.cron must have five fields",
        ),
        (
            {"check-expiring-products": {"cron": "0 25 * * *"}},
            "check-expiring-products.cron '0 25 * * *' is not",
        ),
        (
            {"send-weekly-stock-movement": {"kwargs": {"period_days": 0}}},
            "send-weekly-stock-movement.kwargs rejected by notifications.dispatch_stock_movement_reports: "
            "period_days",
        ),
        ({"cleanup-old-task-records": {"kwargs": {"days": 3}}}, "cleanup-old-task-records.kwargs rejected"),
    ],
)
def test_a_bad_override_is_refused_naming_the_entry_and_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigurationError, match="TASKLANE_BEAT_SCHEDULE_OVERRIDES") as caught:
        effective_schedule(settings_with(overrides))
    assert message in str(caught.value)


def test_beat_will_not_start_on_a_bad_override_and_says_why(services: Services) -> None:
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_BEAT_SCHEDULE_OVERRIDES=json.dumps(
            {"cleanup-old-task-records": {"every": 60, "cron": "* * * * *"}}
        ),
    )
    result = subprocess.run(
        [str(BIN / "tasklane-beat")], check=False, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 78
    assert "TASKLANE_BEAT_SCHEDULE_OVERRIDES" in result.stderr
    assert "give `every` or `cron`, not both" in result.stderr


def test_tasklane_beat_schedule_prints_the_effective_schedule_with_next_runs(services: Services) -> None:
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_BEAT_SCHEDULE_OVERRIDES=json.dumps(
            {"dispatch-due-reminders": {"every": 15}, "cleanup-old-task-records": {"enabled": False}}
        ),
    )
    table = subprocess.run(
        [str(BIN / "tasklane-beat"), "schedule"], env=env, capture_output=True, text=True, check=True
    ).stdout
    rows = {
        line.split()[0]: line.split()
        for line in table.splitlines()[1:]
        if line and not line.endswith("OVERRIDES")
    }
    assert rows["dispatch-due-reminders"][1:4] == ["notifications.dispatch_due_reminders", "every", "15s"]
    assert "cleanup-old-task-records" not in rows
    assert "cleanup-old-task-records: disabled by TASKLANE_BEAT_SCHEDULE_OVERRIDES" in table

    listing = json.loads(
        subprocess.run(
            [str(BIN / "tasklane-beat"), "schedule", "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    by_name = {e["entry"]: e for e in listing["entries"]}
    assert listing["disabled"] == ["cleanup-old-task-records"]
    assert by_name["check-expiring-products"]["next_run"].endswith("T07:00:00+00:00")
    assert by_name["send-weekly-stock-movement"]["kwargs"] == {"period_days": 7}
    assert by_name["send-low-stock-alerts"]["queue"] == "notifications"
