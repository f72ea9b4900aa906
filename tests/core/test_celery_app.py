from __future__ import annotations

import uuid

import pytest
import redis

from tasklane.celery_app import create_celery_app
from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.publishing import publish_many
from tasklane.routing import QUEUES, UnroutedTaskError, queue_for
from tasklane.settings import Settings


@pytest.fixture
def dev_settings() -> Settings:
    return Settings(environment="development", broker_url="redis://127.0.0.1:1/0")


def test_the_app_is_json_only_late_acking_and_prefetches_one(dev_settings: Settings) -> None:
    conf = create_celery_app(dev_settings).conf

    assert conf.task_serializer == conf.result_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.timezone == "UTC"
    assert conf.enable_utc
    assert conf.task_track_started
    assert conf.task_acks_late
    assert conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_send_task_events
    assert not conf.task_send_sent_event, "publishing is one round trip; the publisher counts sends"
    assert conf.broker_connection_retry_on_startup
    assert conf.result_expires == dev_settings.result_expires
    assert conf.worker_soft_shutdown_timeout == dev_settings.worker_soft_shutdown_timeout


def test_a_worker_keeps_its_unacknowledged_messages_under_keys_of_its_own_queues() -> None:
    settings = Settings(environment="development", reports_soft_time_limit=3000, reports_hard_time_limit=4000)

    emails = create_celery_app(settings, queues=["notifications"]).conf.broker_transport_options
    reports = create_celery_app(settings, queues=["reports", "maintenance"]).conf.broker_transport_options
    publisher = create_celery_app(settings).conf.broker_transport_options

    assert reports["visibility_timeout"] > 4000 > emails["visibility_timeout"]
    assert emails["unacked_key"] == "unacked:notifications"
    assert reports["unacked_index_key"] == "unacked_index:maintenance+reports"
    assert len({emails["unacked_mutex_key"], reports["unacked_mutex_key"]}) == 2
    assert "unacked_key" not in publisher, "publishers hold nothing unacknowledged"


@pytest.mark.parametrize(
    ("name", "queue"),
    [
        ("reports.generate_sales_report", "reports"),
        ("notifications.send_welcome_email", "notifications"),
        ("payments.process_payment_webhook", "payments"),
        ("maintenance.cleanup_expired_artifacts", "maintenance"),
    ],
)
def test_task_names_route_to_their_queue_by_prefix(name: str, queue: str) -> None:
    assert queue_for(name) == queue
    assert queue in QUEUES, "every routed queue is in the one list of queues"


def test_an_unrouted_task_is_refused_at_publish_time_and_never_reaches_the_broker(
    env: dict[str, str],
) -> None:
    settings = Settings(environment="development", broker_url=env["TASKLANE_BROKER_URL"])
    app = create_celery_app(settings)
    broker = redis.Redis.from_url(settings.broker_url)
    before = set(broker.keys())

    with pytest.raises(UnroutedTaskError, match=r"'nowhere\.charge' matches no route"):
        app.send_task("nowhere.charge", kwargs={})

    assert set(broker.keys()) == before
    assert broker.llen("celery") == 0


def test_each_task_gets_its_queues_time_limits_without_repeating_them() -> None:
    settings = Settings(
        environment="development", notifications_soft_time_limit=11, notifications_hard_time_limit=22
    )
    app = create_celery_app(settings)

    @app.task(name="notifications.example")
    def example() -> None:
        """A task that sets no limits of its own."""

    task = app.tasks["notifications.example"]
    assert (task.soft_time_limit, task.time_limit) == (11, 22)


def test_publishing_validates_the_payload_against_the_contract(dev_settings: Settings) -> None:
    app = create_celery_app(dev_settings)

    with pytest.raises(TypeError, match="takes SendWelcomeEmail"):
        publish_many(app, SEND_WELCOME_EMAIL, [object()])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="user_id"):
        SendWelcomeEmail.model_validate({"user_id": "nope"})
    with pytest.raises(ValueError, match="extra"):
        SendWelcomeEmail.model_validate({"user_id": str(uuid.uuid4()), "extra": 1})


def test_a_contract_with_an_unroutable_name_cannot_even_be_declared() -> None:
    from tasklane.contracts import TaskContract

    with pytest.raises(UnroutedTaskError):
        TaskContract("misc.thing", SendWelcomeEmail)
