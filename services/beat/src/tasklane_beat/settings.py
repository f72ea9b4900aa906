"""Beat's own settings: schedule overrides, the Redis holding its state and lock, and its timing."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tasklane.settings import Settings


class ScheduleOverride(BaseModel):
    """A change to one beat schedule entry: a new interval (`every`, seconds) or crontab (`cron`, five
    fields, UTC), extra task kwargs, a different `expires` (seconds), or `enabled: false`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    every: float | None = Field(None, gt=0)
    cron: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    expires: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_timing(self) -> ScheduleOverride:
        if self.every is not None and self.cron is not None:
            raise ValueError("give `every` or `cron`, not both")
        return self


class BeatSettings(Settings):
    beat_schedule_overrides: dict[str, ScheduleOverride] = Field(
        default_factory=dict,
        description="JSON object changing beat's schedule by entry name, e.g. "
        '`{"send-low-stock-alerts": {"every": 3600}, "deactivate-inactive-users": {"enabled": false}}`; '
        "each entry takes `every` (seconds) or `cron` (UTC), `kwargs`, `expires`, `enabled`.",
    )
    beat_redis_url: str | None = Field(
        None, description="Redis holding beat's schedule state and lock (default: the broker URL)."
    )
    beat_max_loop_interval: float = Field(
        5.0, gt=0, description="Longest beat sleeps between checks of the schedule (seconds)."
    )
    beat_lock_timeout: int = Field(
        30,
        ge=2,
        description="Seconds beat's lock outlives a beat that died without releasing it; a standby beat "
        "takes over after this long.",
    )

    @field_validator("beat_schedule_overrides", mode="before")
    @classmethod
    def _json_text(cls, value: object) -> object:
        # The environment hands JSON over as text; so do callers building settings from such values.
        return json.loads(value) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _lock_outlives_a_loop(self) -> BeatSettings:
        if self.beat_lock_timeout <= self.beat_max_loop_interval:
            raise ValueError(
                f"TASKLANE_BEAT_LOCK_TIMEOUT ({self.beat_lock_timeout}) must exceed "
                f"TASKLANE_BEAT_MAX_LOOP_INTERVAL ({self.beat_max_loop_interval}): beat refreshes its lock "
                "once per loop"
            )
        if not self.redis_sentinel_master and self.effective_beat_redis_url.startswith("sentinel://"):
            raise ValueError("TASKLANE_REDIS_SENTINEL_MASTER is required with sentinel:// Redis URLs")
        return self

    @property
    def effective_beat_redis_url(self) -> str:
        return self.beat_redis_url or self.broker_url
