"""The settings the chart gives each process: only names the Settings model knows, a configuration the model
accepts, every production-required setting present, and pods that roll when settings change."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import pytest

from tasklane.settings import ConfigurationError, load_settings
from tests.chart.helm import (
    CHART,
    Manifest,
    find,
    name,
    one,
    pod_spec,
    render,
    render_cached,
    resolved_env,
    tasklane_containers,
    tasklane_setting_names,
)
from tools.settings_doc import AllSettings

PLACEHOLDERS = {
    "TASKLANE_DATABASE_URL": "postgresql+psycopg://tasklane:pw@db.example.internal:5432/tasklane",
    "TASKLANE_BROKER_URL": "redis://:pw@redis.example.internal:6379/0",
    "TASKLANE_SIGNING_SECRET": "placeholder-signing-secret-0123456789abcdef",
}


def names_set(manifests: list[Manifest]) -> set[str]:
    """Every TASKLANE_* name the render gives a process: ConfigMap keys and container env names."""
    found = set()
    for configmap in find(manifests, "ConfigMap"):
        found |= {key for key in configmap.get("data", {}) if key.startswith("TASKLANE_")}
    for _, spec in tasklane_containers(manifests):
        found |= {e["name"] for e in spec.get("env", []) if e["name"].startswith("TASKLANE_")}
    return found


def user_secrets(manifests: list[Manifest]) -> dict[tuple[str, str], str]:
    """Stand-ins for the Secrets a user manages (existingSecret), by the variable they hold."""
    own = {s["metadata"]["name"] for s in find(manifests, "Secret")}
    external = {}
    for _, spec in tasklane_containers(manifests):
        for entry in spec.get("env", []):
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref and ref["name"] not in own and entry["name"] in PLACEHOLDERS:
                external[(ref["name"], ref["key"])] = PLACEHOLDERS[entry["name"]]
    return external


@contextmanager
def process_environment(env: Mapping[str, str]) -> Iterator[None]:
    """Exactly ``env``'s TASKLANE_* variables in os.environ, as in the container."""
    with pytest.MonkeyPatch.context() as patch:
        import os

        for key in [k for k in os.environ if k.startswith("TASKLANE_")]:
            patch.delenv(key)
        for key, value in env.items():
            if key.startswith("TASKLANE_"):
                patch.setenv(key, value)
        yield


def load(env: Mapping[str, str]) -> AllSettings:
    with process_environment(env):
        return load_settings(AllSettings)


def test_every_tasklane_variable_the_chart_sets_is_a_setting(matrix: dict[str, list[Manifest]]) -> None:
    known = tasklane_setting_names()
    assert "TASKLANE_DATABASE_URL" in known
    for stem, manifests in matrix.items():
        unknown = names_set(manifests) - known
        assert not unknown, f"{stem}: no settings model has {sorted(unknown)}"


def test_every_setting_a_values_description_names_exists_and_is_rendered() -> None:
    schema_text = (CHART / "values.schema.json").read_text()
    named = set(re.findall(r"TASKLANE_[A-Z_]+[A-Z]", schema_text)) - {"TASKLANE_"}
    assert not named - tasklane_setting_names(), sorted(named - tasklane_setting_names())
    everything = render(
        {
            "secrets": {
                "paystackSecretKey": "sk_live_x",
                "smtpPassword": "pw",
                "sentryDsn": "https://k@sentry.test/1",
            },
            "config": {"smtp": {"username": "tasklane", "sender": "Shop <shop@example.com>"}},
            "redis": {"enabled": False},
            "externalRedis": {
                "url": "sentinel://:pw@s-a:26379;sentinel://:pw@s-b:26379/0",
                "resultBackendUrl": "sentinel://:pw@s-a:26379;sentinel://:pw@s-b:26379/1",
                "beatRedisUrl": "sentinel://:pw@s-a:26379;sentinel://:pw@s-b:26379/2",
                "sentinelMaster": "tasklane",
            },
            "workers": {"defaults": {"visibilityTimeout": 100000}},
        }
    )
    assert not named - names_set(everything), sorted(named - names_set(everything))


def test_each_process_gets_a_configuration_the_settings_model_accepts(
    matrix: dict[str, list[Manifest]],
) -> None:
    for stem, manifests in matrix.items():
        external = user_secrets(manifests)
        for manifest, spec in tasklane_containers(manifests):
            env = resolved_env(manifests, spec, external)
            try:
                settings = load(env)
            except ConfigurationError as exc:
                pytest.fail(f"{stem}: {manifest['metadata']['name']}/{spec['name']}: {exc}")
            assert settings.environment == "production"


def production_required() -> set[str]:
    """The settings production refuses to start without, found by asking the model: start from nothing in
    production, add what each refusal names (from the default render), until it starts."""
    manifests = render_cached()
    api = one(manifests, "Deployment", name("api"))["spec"]["template"]["spec"]["containers"][0]
    rendered = resolved_env(manifests, api)
    given = {"TASKLANE_ENVIRONMENT": "production"}
    for _ in range(len(AllSettings.model_fields)):
        try:
            load(given)
        except ConfigurationError as exc:
            refusal = str(exc)
        else:
            return set(given) - {"TASKLANE_ENVIRONMENT"}
        named = set(re.findall(r"TASKLANE_[A-Z_]+[A-Z]", refusal)) - set(given)
        assert named, f"the model refuses what it was given: {refusal}"
        missing = named - set(rendered)
        assert not missing, f"production requires {sorted(missing)}, which the chart never sets"
        given.update({key: rendered[key] for key in named})
    raise AssertionError("the model kept refusing")


def test_every_setting_production_requires_is_set_in_every_process(matrix: dict[str, list[Manifest]]) -> None:
    required = production_required()
    assert required, "the model requires nothing in production?"
    for stem, manifests in matrix.items():
        data = one(manifests, "ConfigMap", name("config"))["data"]
        assert data["TASKLANE_ENVIRONMENT"] == "production"
        for manifest, spec in tasklane_containers(manifests):
            entries = {e["name"]: e for e in spec.get("env", [])}
            for variable in required:
                where = f"{stem}: {manifest['metadata']['name']}/{spec['name']}"
                assert variable in entries or variable in data, f"{where} lacks {variable}"
                ref = entries.get(variable, {}).get("valueFrom", {}).get("secretKeyRef", {})
                assert not ref.get("optional"), f"{where}: {variable} is optional"


def test_what_production_requires_and_a_user_must_give_is_refused_when_missing() -> None:
    from tests.chart.helm import render_error

    assert "TASKLANE_DATABASE_URL" in production_required()
    message = render_error({"postgresql": {"enabled": False}})
    assert "/externalDatabase/url" in message and "/externalDatabase/existingSecret" in message
    assert "/secrets/signingSecret" in render_error({"secrets": {"signingSecret": "too-short"}})


CHECKSUM_BASE: dict[str, Any] = {
    "secrets": {"signingSecret": "s" * 40},
    "postgresql": {"auth": {"password": "pgpassword"}},
    "redis": {"password": "redispassword"},
}


def checksums(manifests: list[Manifest]) -> dict[str, tuple[str, str]]:
    found = {}
    for manifest, _ in tasklane_containers(manifests):
        annotations = manifest["spec"]["template"]["metadata"]["annotations"] if pod_spec(manifest) else {}
        if manifest["kind"] != "Pod":
            found[manifest["metadata"]["name"]] = (
                annotations["checksum/config"],
                annotations["checksum/secret"],
            )
    return found


def merged(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(base))
    for key, value in extra.items():
        result[key] = {**result.get(key, {}), **value}
    return result


def test_checksum_annotations_change_exactly_when_config_or_secrets_change() -> None:
    base = checksums(render(CHECKSUM_BASE))
    assert len(base) >= 6
    assert checksums(render(CHECKSUM_BASE)) == base
    config_changed = checksums(render(merged(CHECKSUM_BASE, {"config": {"logLevel": "DEBUG"}})))
    secret_changed = checksums(render(merged(CHECKSUM_BASE, {"secrets": {"paystackSecretKey": "sk_live_x"}})))
    for workload, (config, secret) in base.items():
        assert config_changed[workload][0] != config, workload
        assert config_changed[workload][1] == secret, workload
        assert secret_changed[workload][0] == config, workload
        assert secret_changed[workload][1] != secret, workload


def test_large_numbers_render_as_integers_the_settings_parse() -> None:
    manifests = render({"config": {"artifacts": {"retention": 12345678}, "readinessTimeout": 2.5}})
    data = one(manifests, "ConfigMap", name("config"))["data"]
    assert data["TASKLANE_ARTIFACT_RETENTION"] == "12345678"
    assert data["TASKLANE_READINESS_TIMEOUT"] == "2.5"
    api = one(manifests, "Deployment", name("api"))["spec"]["template"]["spec"]["containers"][0]
    settings = load(resolved_env(manifests, api))
    assert settings.artifact_retention == 12345678
    assert settings.readiness_timeout == 2.5


def test_generated_secrets_are_long_random_and_distinct(default_render: list[Manifest]) -> None:
    (secret,) = find(default_render, "Secret")
    import base64

    values = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    generated = [values["signing-secret"], values["postgresql-password"], values["redis-password"]]
    assert len(set(generated)) == 3
    assert all(len(value) >= 32 and value.isalnum() for value in generated)
    again = find(render_cached({"tests": {"enabled": True}}), "Secret")[0]["data"]
    assert again["signing-secret"] != secret["data"]["signing-secret"], (
        "helm template has no cluster to keep from"
    )
