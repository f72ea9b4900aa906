from __future__ import annotations

import pytest

from tasklane.settings import QUEUES, ConfigurationError, Settings, load_settings

SECRET = "s" * 40


def test_production_requires_a_database_url_and_a_signing_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "production")

    with pytest.raises(ConfigurationError, match="TASKLANE_DATABASE_URL is required outside development"):
        load_settings()
    monkeypatch.setenv("TASKLANE_DATABASE_URL", "postgresql+psycopg://db/tasklane")
    with pytest.raises(ConfigurationError, match="TASKLANE_SIGNING_SECRET is required outside development"):
        load_settings()
    monkeypatch.setenv("TASKLANE_SIGNING_SECRET", SECRET)
    assert load_settings().signing_key == SECRET.encode()


def test_the_environment_defaults_to_production_so_nothing_insecure_is_implied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TASKLANE_ENVIRONMENT", raising=False)

    with pytest.raises(ConfigurationError):
        load_settings()


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

    settings = load_settings()

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
        load_settings()


def test_visibility_timeout_outlasts_every_hard_limit_and_retry_countdown() -> None:
    settings = Settings(
        environment="development", maintenance_soft_time_limit=3000, maintenance_hard_time_limit=3600
    )

    longest = max(settings.time_limits(q).hard for q in QUEUES)
    assert longest == 3600
    assert settings.visibility_timeout > longest + settings.worker_soft_shutdown_timeout
    assert settings.visibility_timeout > settings.email_retry_backoff_max


def test_an_explicit_visibility_timeout_shorter_than_a_task_is_refused() -> None:
    with pytest.raises(ValueError, match="TASKLANE_BROKER_VISIBILITY_TIMEOUT"):
        Settings(environment="development", broker_visibility_timeout=100)
    assert Settings(environment="development", broker_visibility_timeout=5000).visibility_timeout == 5000
