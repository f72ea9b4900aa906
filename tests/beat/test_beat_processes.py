"""Beat as deployed: real ``tasklane-beat`` processes, a real Redis, and what reaches the queues."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import datetime, timedelta

from tasklane_beat.schedule import SCHEDULE
from tests.harness.beat import BrokerWatcher, gaps, holds_lock, start_beat
from tests.harness.ports import wait_for
from tests.harness.stack import BIN, Services, fresh_broker_url, tasklane_env

QUEUES = ("notifications", "maintenance", "payments", "reports")
ARTIFACTS = "maintenance.cleanup_expired_artifacts"
RELAY = "maintenance.reconcile_task_records"
LOCK_TIMEOUT = 3


def only(**entries: dict[str, object]) -> str:
    """Overrides that keep only the given entries (by snake_case name), each with its own changes."""
    wanted = {name.replace("_", "-"): change for name, change in entries.items()}
    overrides = {name: wanted.get(name, {"enabled": False}) for name in SCHEDULE}
    return json.dumps(overrides)


def beat_env(services: Services, broker_url: str, overrides: str) -> dict[str, str]:
    return tasklane_env(
        services,
        broker_url=broker_url,
        TASKLANE_BEAT_MAX_LOOP_INTERVAL="0.2",
        TASKLANE_BEAT_LOCK_TIMEOUT=str(LOCK_TIMEOUT),
        TASKLANE_BEAT_SCHEDULE_OVERRIDES=overrides,
    )


def test_two_beats_at_once_publish_each_due_entry_once_per_tick_and_hand_over_without_a_gap(
    services: Services,
) -> None:
    broker = fresh_broker_url(services)
    env = beat_env(
        services,
        broker,
        only(cleanup_expired_artifacts={"every": 2}, reconcile_task_records={"every": 3}),
    )
    with BrokerWatcher(broker, QUEUES) as watcher:
        first = start_beat(env, "beat-old")
        second = None
        try:
            wait_for(lambda: holds_lock(first), timeout=30, what="the first beat to take the lock")
            second = start_beat(env, "beat-new")  # a rolling update's new pod, while the old one runs
            time.sleep(10)
            assert not holds_lock(second), "the second beat must wait for the lock, not schedule alongside"
            first.stop()  # the old pod gets SIGTERM and releases the lock on its way out
            wait_for(lambda: holds_lock(second), timeout=10, what="the second beat to take over")
            time.sleep(7)
        finally:
            first.stop()
            if second is not None:
                second.stop()

    for task, interval in ((ARTIFACTS, 2), (RELAY, 3)):
        times = watcher.times(task)
        assert len(times) >= 15 // interval, (task, times)
        assert min(gaps(times)) >= interval - 0.4, f"{task} published twice in one tick: {gaps(times)}"
        assert max(gaps(times)) <= interval + 3, f"{task} missed a tick around the handover: {gaps(times)}"
    assert {p.task for p in watcher.published()} == {ARTIFACTS, RELAY}, "disabled entries never publish"
    assert all(p.expires for p in watcher.published()), "every scheduled message carries its expiry"


def test_a_killed_beat_restarted_after_a_due_time_runs_the_missed_tick_once_from_its_saved_state(
    services: Services,
) -> None:
    broker = fresh_broker_url(services)
    interval = 8
    env = beat_env(services, broker, only(cleanup_expired_artifacts={"every": interval}))
    with BrokerWatcher(broker, QUEUES) as watcher:
        beat = start_beat(env, "beat-killed")
        try:
            first_run = watcher.wait_for_count(ARTIFACTS, 1, timeout=30)[0]
            time.sleep(1)
        finally:
            beat.kill()  # SIGKILL: no clean-up, the lock stays until it expires
        # Stay down past the next due time, then come back.
        time.sleep(max(0.0, first_run + interval + 1.5 - time.monotonic()))
        restarted = start_beat(env, "beat-restarted")
        started = time.monotonic()
        try:
            times = watcher.wait_for_count(ARTIFACTS, 2, timeout=30)
            time.sleep(3)  # room for a duplicate to show up, if there were one
            times = watcher.times(ARTIFACTS)
            state = subprocess.run(
                [str(BIN / "tasklane-beat"), "schedule", "--json"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        finally:
            restarted.stop()

    assert len(times) == 2, f"the missed tick runs exactly once after the restart: {times}"
    # Overdue by its saved last run, the entry goes out as soon as the new beat runs; a beat that had lost
    # that state would treat the entry as new and wait a whole interval first.
    assert times[1] - started < interval / 2, (times, started)
    entry = next(e for e in json.loads(state.stdout)["entries"] if e["entry"] == "cleanup-expired-artifacts")
    last_run, next_run = datetime.fromisoformat(entry["last_run"]), datetime.fromisoformat(entry["next_run"])
    assert timedelta(seconds=interval - 2) <= next_run - last_run <= timedelta(seconds=interval + 2)
