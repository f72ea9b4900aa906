from __future__ import annotations

import pytest

from tasklane.settings import QUEUES, ConfigurationError, Settings, load_settings
from tasklane_notifications.settings import NotificationsSettings
from tools.settings_doc import OWNERS, AllSettings, declared

SECRET = "s" * 40


def test_production_requires_a_database_url_and_a_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "production")

    with pytest.raises(ConfigurationError, match="TASKLANE_DATABASE_URL is required outside development"):
        load_settings(Settings)
    monkeypatch.setenv("TASKLANE_DATABASE_URL", "postgresql+psycopg://db/tasklane")
    with pytest.raises(ConfigurationError, match="TASKLANE_SIGNING_SECRET is required outside development"):
        load_settings(Settings)
    monkeypatch.setenv("TASKLANE_SIGNING_SECRET", SECRET)
    assert load_settings(Settings).signing_key == SECRET.encode()


def test_the_environment_defaults_to_production_so_nothing_insecure_is_implied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TASKLANE_ENVIRONMENT", raising=False)

    with pytest.raises(ConfigurationError):
        load_settings(Settings)


@pytest.mark.parametrize("secret", ["changethis", "short-but-random"])
def test_placeholder_or_short_secrets_are_refused_outside_development(secret: str) -> None:
    with pytest.raises(ValueError, match="at least 32 characters"):
        Settings(environment="production", database_url="postgresql://x/y", signing_secret=secret)


def test_development_runs_on_embedded_defaults() -> None:
    settings = Settings(environment="development")

    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.signing_key
    assert settings.effective_result_backend_url == settings.broker_url


def test_values_come_from_tasklane_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "development")
    monkeypatch.setenv("TASKLANE_SMTP_PORT", "2525")
    monkeypatch.setenv("TASKLANE_REPORTS_HARD_TIME_LIMIT", "900")
    monkeypatch.setenv("TASKLANE_SMTP_SENDER", "Shop <shop@example.com>")

    settings = load_settings(NotificationsSettings)

    assert settings.smtp_port == 2525
    assert settings.time_limits("reports").hard == 900
    assert settings.smtp_sender.email == "shop@example.com"


def test_a_hard_limit_must_exceed_its_soft_limit_and_the_message_names_both() -> None:
    with pytest.raises(
        ValueError,
        match=r"TASKLANE_PAYMENTS_HARD_TIME_LIMIT \(60\) must be larger than TASKLANE_PAYMENTS_SOFT",
    ):
        Settings(environment="development", payments_soft_time_limit=60, payments_hard_time_limit=60)


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "development")
    monkeypatch.setenv("TASKLANE_SMTP_PORT", "not-a-port")

    with pytest.raises(ConfigurationError, match="TASKLANE_SMTP_PORT: "):
        load_settings(NotificationsSettings)


def test_each_worker_gets_a_visibility_timeout_that_outlasts_only_its_own_queues_longest_hold() -> None:
    settings = NotificationsSettings(
        environment="development", reports_soft_time_limit=3000, reports_hard_time_limit=3600
    )

    emails = settings.visibility_timeout(["notifications"])
    reports = settings.visibility_timeout(["reports", "maintenance"])

    hold = settings.worker_retry_hold
    assert emails > settings.time_limits("notifications").hard + hold
    assert reports > 3600 + hold
    # A killed email worker's messages come back in about a minute, whatever the longest report allows.
    assert emails <= 75 < reports
    assert settings.email_retry_backoff_max > emails, "long email backoffs are not held by the worker"


def test_an_explicit_visibility_timeout_shorter_than_a_task_is_refused() -> None:
    with pytest.raises(ValueError, match="TASKLANE_BROKER_VISIBILITY_TIMEOUT"):
        Settings(environment="development", broker_visibility_timeout=100)
    assert (
        Settings(environment="development", broker_visibility_timeout=5000).visibility_timeout(QUEUES) == 5000
    )
    # Only the worker's own queues count: 60 s outlasts an email's hold but not a report's.
    assert (
        Settings(
            environment="development", broker_visibility_timeout=60, worker_queues="notifications"
        ).visibility_timeout(["notifications"])
        == 60
    )


def test_worker_queues_are_a_comma_separated_list_of_known_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "development")
    monkeypatch.setenv("TASKLANE_WORKER_QUEUES", "reports, maintenance")
    assert load_settings(Settings).worker_queues == ("reports", "maintenance")

    monkeypatch.setenv("TASKLANE_WORKER_QUEUES", "reports,nowhere")
    with pytest.raises(ConfigurationError, match="TASKLANE_WORKER_QUEUES: unknown queues nowhere"):
        load_settings(Settings)


def test_each_setting_has_one_owner_and_others_ignore_it(monkeypatch: pytest.MonkeyPatch) -> None:
    owned: dict[str, str] = {}
    for title, _, model in OWNERS:
        for name in declared(model):
            assert name not in owned, f"{name} is declared by both {owned[name]} and {title}"
            owned[name] = title
    assert set(owned) == set(AllSettings.model_fields)

    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "development")
    monkeypatch.setenv("TASKLANE_SMTP_PORT", "not-a-port")
    assert not hasattr(load_settings(Settings), "smtp_port"), "a mail setting means nothing to the core"


def test_time_limits_are_an_explicit_mapping_with_a_default_for_new_queues() -> None:
    settings = Settings(environment="development", default_soft_time_limit=40, default_hard_time_limit=50)

    assert settings.time_limits("payments") == (
        settings.payments_soft_time_limit,
        settings.payments_hard_time_limit,
    )
    assert settings.time_limits("a-queue-with-no-settings") == (40, 50)
