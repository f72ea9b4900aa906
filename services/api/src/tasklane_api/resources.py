"""The long-lived things one API process holds, built once from settings in ``create_app``."""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from tasklane.artifacts import DatabaseArtifactStore
from tasklane.celery_app import create_celery_app
from tasklane.db.engine import Database
from tasklane.task_events import TaskEventPublisher
from tasklane_api.payments.intake import EventIntake
from tasklane_api.payments.providers import PaymentProvider, providers
from tasklane_api.settings import ApiSettings
from tasklane_api.waiting import TaskWaiters


@dataclass(frozen=True)
class Resources:
    settings: ApiSettings
    database: Database
    celery: Celery
    artifacts: DatabaseArtifactStore
    events: TaskEventPublisher
    waiters: TaskWaiters
    payment_providers: dict[str, PaymentProvider]
    intake: EventIntake

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> Resources:
        database = Database(settings)
        return cls(
            settings=settings,
            database=database,
            celery=create_celery_app(settings, name="tasklane-api"),
            artifacts=DatabaseArtifactStore(database),
            events=TaskEventPublisher(settings.broker_url, settings.redis_sentinel_master),
            waiters=TaskWaiters(settings.broker_url, settings.redis_sentinel_master),
            payment_providers=providers(settings),
            intake=EventIntake(settings, database),
        )

    def close(self) -> None:
        self.database.engine.dispose()
        self.celery.close()
        self.events.close()
