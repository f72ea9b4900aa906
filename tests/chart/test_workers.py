"""Worker sets: one Deployment (+ PDB + one autoscaler at most) per set, queues and limits from values,
the grace-period rule, and KEDA's triggers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.chart.conftest import ci_file
from tests.chart.helm import (
    Manifest,
    container,
    find,
    name,
    one,
    render,
    render_cached,
    render_error,
    resolved_env,
    secret_data,
)

DEFAULT_SETS: dict[str, dict[str, Any]] = {
    "reports": {"service": "reports", "queues": ["reports", "maintenance"], "soft": 300, "hard": 360},
    "notifications": {"service": "notifications", "queues": ["notifications"], "soft": 30, "hard": 45},
    "payments": {"service": "payments", "queues": ["payments"], "soft": 30, "hard": 60},
}
SOFT_SHUTDOWN = 25  # config.worker.softShutdownTimeout's default


def default_sets() -> list[dict[str, Any]]:
    return [
        {
            "name": set_name,
            "service": spec["service"],
            "queues": spec["queues"],
            "softTimeLimit": spec["soft"],
            "hardTimeLimit": spec["hard"],
        }
        for set_name, spec in DEFAULT_SETS.items()
    ]


def with_set(index: int, **overrides: Any) -> dict[str, Any]:
    sets = default_sets()
    sets[index].update(overrides)
    return {"workers": {"sets": sets}}


def worker_deployments(manifests: list[Manifest]) -> dict[str, Manifest]:
    return {
        d["metadata"]["labels"]["tasklane-worker-set"]: d
        for d in find(manifests, "Deployment")
        if d["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    }


def configmap(manifests: list[Manifest]) -> dict[str, str]:
    data: dict[str, str] = one(manifests, "ConfigMap", name("config"))["data"]
    return data


def test_each_default_set_is_its_own_deployment_with_its_queues_image_concurrency_and_limits(
    default_render: list[Manifest],
) -> None:
    deployments = worker_deployments(default_render)
    assert set(deployments) == set(DEFAULT_SETS)
    config = configmap(default_render)
    for set_name, spec in DEFAULT_SETS.items():
        deployment = deployments[set_name]
        assert deployment["metadata"]["name"] == name(f"worker-{set_name}")
        worker = container(deployment, "worker")
        assert worker["image"] == f"tasklane-worker-{spec['service']}:0.1.0"
        assert worker["command"] == [f"tasklane-worker-{spec['service']}"]
        assert worker["args"][:4] == ["--pool", "prefork", "--prefetch-multiplier", "1"]
        env = {e["name"]: e.get("value") for e in worker["env"]}
        assert env["TASKLANE_WORKER_QUEUES"] == ",".join(spec["queues"])
        assert env["TASKLANE_WORKER_CONCURRENCY"] == "2"
        assert "-Q" not in worker["args"] and "--queues" not in worker["args"]
        for queue in spec["queues"]:
            assert config[f"TASKLANE_{queue.upper()}_SOFT_TIME_LIMIT"] == str(spec["soft"])
            assert config[f"TASKLANE_{queue.upper()}_HARD_TIME_LIMIT"] == str(spec["hard"])
        assert deployment["spec"]["replicas"] == 1
        assert one(default_render, "PodDisruptionBudget", name(f"worker-{set_name}"))


def test_a_user_added_set_renders_from_values_alone() -> None:
    manifests = render_cached(values_files=(ci_file("extra-worker-set-values"),))
    deployments = worker_deployments(manifests)
    assert set(deployments) == {*DEFAULT_SETS, "maintenance"}
    maintenance = container(deployments["maintenance"], "worker")
    assert maintenance["command"] == ["tasklane-worker-reports"]
    assert maintenance["image"] == "tasklane-worker-reports:0.1.0"
    env = {e["name"]: e.get("value") for e in maintenance["env"]}
    assert env["TASKLANE_WORKER_QUEUES"] == "maintenance"
    assert env["TASKLANE_WORKER_CONCURRENCY"] == "1"
    assert maintenance["resources"]["limits"]["memory"] == "512Mi"
    reports_env = {e["name"]: e.get("value") for e in container(deployments["reports"], "worker")["env"]}
    assert reports_env["TASKLANE_WORKER_QUEUES"] == "reports"
    config = configmap(manifests)
    assert (
        config["TASKLANE_MAINTENANCE_SOFT_TIME_LIMIT"],
        config["TASKLANE_MAINTENANCE_HARD_TIME_LIMIT"],
    ) == (
        "1200",
        "1260",
    )
    assert config["TASKLANE_REPORTS_HARD_TIME_LIMIT"] == "360"
    assert deployments["maintenance"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == (
        1260 + SOFT_SHUTDOWN + 15
    )
    assert one(manifests, "PodDisruptionBudget", name("worker-maintenance"))


def test_per_set_image_and_registry_and_tags() -> None:
    values = with_set(1, image={"repository": "custom/notifier", "tag": "9.9"})
    values["image"] = {"registry": "ghcr.io/acme/", "tag": "1.2.3"}
    deployments = worker_deployments(render(values))
    assert container(deployments["notifications"], "worker")["image"] == "ghcr.io/acme/custom/notifier:9.9"
    assert (
        container(deployments["payments"], "worker")["image"] == "ghcr.io/acme/tasklane-worker-payments:1.2.3"
    )


def test_the_default_grace_period_is_the_hard_limit_plus_soft_shutdown_plus_a_margin(
    default_render: list[Manifest],
) -> None:
    for set_name, spec in DEFAULT_SETS.items():
        pod = worker_deployments(default_render)[set_name]["spec"]["template"]["spec"]
        assert pod["terminationGracePeriodSeconds"] == spec["hard"] + SOFT_SHUTDOWN + 15


def test_a_grace_period_shorter_than_hard_limit_plus_soft_shutdown_is_refused_naming_the_key() -> None:
    message = render_error(with_set(1, terminationGracePeriodSeconds=45 + SOFT_SHUTDOWN - 1))
    assert "workers.sets[1] (notifications).terminationGracePeriodSeconds" in message
    assert "69" in message and "70" in message
    message = render_error({"workers": {"defaults": {"terminationGracePeriodSeconds": 100}}})
    assert (
        "workers.defaults.terminationGracePeriodSeconds (100, inherited by workers.sets[0] (reports))"
        in message
    )
    message = render_error(
        {"config": {"worker": {"softShutdownTimeout": 120}}, **with_set(2, terminationGracePeriodSeconds=150)}
    )
    assert "workers.sets[2] (payments).terminationGracePeriodSeconds (150" in message


def test_a_grace_period_of_exactly_hard_limit_plus_soft_shutdown_is_accepted() -> None:
    manifests = render(with_set(1, terminationGracePeriodSeconds=45 + SOFT_SHUTDOWN))
    pod = worker_deployments(manifests)["notifications"]["spec"]["template"]["spec"]
    assert pod["terminationGracePeriodSeconds"] == 70


def test_sets_sharing_a_queue_must_agree_on_its_limits_and_the_message_names_both() -> None:
    sets = default_sets()
    sets.append(
        {"name": "urgent", "service": "notifications", "queues": ["notifications"], "softTimeLimit": 10}
    )
    message = render_error({"workers": {"sets": sets}})
    assert "workers.sets[1] (notifications)" in message and "workers.sets[3] (urgent)" in message
    assert '"notifications"' in message
    sets[3].update(softTimeLimit=30, hardTimeLimit=45)
    deployments = worker_deployments(render({"workers": {"sets": sets}}))
    assert {"notifications", "urgent"} <= set(deployments)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"queues": ["reports"]},
            'workers.sets[1] (notifications).queues: service "notifications" does not serve',
        ),
        ({"hardTimeLimit": 30}, "workers.sets[1] (notifications).hardTimeLimit (30) must be larger"),
        ({"name": "reports"}, 'workers.sets[1] (reports): name "reports" is already used'),
        ({"visibilityTimeout": 55}, "workers.sets[1] (notifications).visibilityTimeout (55) must exceed"),
        ({"autoscaling": {"minReplicas": 0}}, "workers.sets[1] (notifications).autoscaling.minReplicas"),
        ({"autoscaling": {"minReplicas": 4, "maxReplicas": 2}}, "autoscaling.maxReplicas (2)"),
    ],
)
def test_inconsistent_sets_are_refused_naming_the_key(overrides: dict[str, Any], expected: str) -> None:
    assert expected in render_error(with_set(1, **overrides))


def test_hpa_without_a_cpu_request_is_refused_naming_the_set() -> None:
    values = with_set(1, autoscaling={"type": "hpa"})
    values["workers"]["defaults"] = {"resources": {"requests": {"cpu": None}}}
    message = render_error(values)
    assert "workers.sets[1] (notifications): autoscaling.type hpa" in message
    assert "resources.requests.cpu" in message


def test_a_set_overrides_defaults_key_by_key_and_false_or_zero_still_win() -> None:
    values = with_set(0, pdb={"enabled": False}, autoscaling={"minReplicas": 0}, concurrency=None)
    values["workers"]["defaults"] = {"autoscaling": {"type": "keda", "maxReplicas": 7}}
    manifests = render(values)
    assert not find(manifests, "PodDisruptionBudget", name("worker-reports"))
    assert find(manifests, "PodDisruptionBudget", name("worker-notifications"))
    scaled = one(manifests, "ScaledObject", name("worker-reports"))
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (0, 7)
    reports = container(worker_deployments(manifests)["reports"], "worker")
    assert "TASKLANE_WORKER_CONCURRENCY" not in {e["name"] for e in reports["env"]}


def test_a_visibility_timeout_override_above_the_hold_is_rendered_for_that_set_only() -> None:
    hold = 10 + 45  # retryHold + the notifications set's hard limit
    manifests = render(with_set(1, visibilityTimeout=hold + 1))
    deployments = worker_deployments(manifests)
    env = {e["name"]: e.get("value") for e in container(deployments["notifications"], "worker")["env"]}
    assert env["TASKLANE_BROKER_VISIBILITY_TIMEOUT"] == str(hold + 1)
    other = {e["name"] for e in container(deployments["payments"], "worker")["env"]}
    assert "TASKLANE_BROKER_VISIBILITY_TIMEOUT" not in other


def test_celery_options_of_a_set_become_worker_arguments() -> None:
    manifests = render(
        with_set(2, pool="threads", prefetchMultiplier=4, maxTasksPerChild=50, extraArgs=["-O", "fair"])
    )
    args = container(worker_deployments(manifests)["payments"], "worker")["args"]
    assert args == [
        "--pool",
        "threads",
        "--prefetch-multiplier",
        "4",
        "--max-tasks-per-child",
        "50",
        "-O",
        "fair",
    ]


def autoscalers_by_target(manifests: list[Manifest]) -> dict[str, list[str]]:
    targets: dict[str, list[str]] = {}
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for scaler in find(manifests, kind):
            ref = scaler["spec"]["scaleTargetRef"]
            assert ref.get("kind", "Deployment") == "Deployment"
            targets.setdefault(ref["name"], []).append(kind)
    return targets


def test_keda_and_hpa_never_both_target_one_deployment(matrix: dict[str, list[Manifest]]) -> None:
    seen = set()
    for stem, manifests in matrix.items():
        targets = autoscalers_by_target(manifests)
        deployments = {d["metadata"]["name"]: d for d in find(manifests, "Deployment")}
        for target, kinds in targets.items():
            assert len(kinds) == 1, f"{stem}: {target} has {kinds}"
            assert target in deployments, f"{stem}: {target} is not a rendered Deployment"
            assert "replicas" not in deployments[target]["spec"], f"{stem}: {target} fixes replicas"
            seen.add(kinds[0])
    assert seen == {"HorizontalPodAutoscaler", "ScaledObject"}


def test_hpa_sets_scale_on_cpu() -> None:
    manifests = render_cached(values_files=(ci_file("hpa-values"),))
    for set_name in DEFAULT_SETS:
        hpa = one(manifests, "HorizontalPodAutoscaler", name(f"worker-{set_name}"))
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"]["averageUtilization"] == 80
        assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 4)
    assert not find(manifests, "ScaledObject")


def test_keda_triggers_read_each_queue_of_the_set_from_the_bundled_redis() -> None:
    manifests = render_cached(values_files=(ci_file("keda-values"),))
    assert not find(manifests, "HorizontalPodAutoscaler", name("worker-reports"))
    auth = one(manifests, "TriggerAuthentication", name("keda-redis"))
    (ref,) = auth["spec"]["secretTargetRef"]
    assert ref["parameter"] == "password"
    secrets = secret_data(manifests)
    password = secrets[(ref["name"], ref["key"])]
    assert f":{password}@" in secrets[(name("secrets"), "broker-url")]
    for set_name, spec in DEFAULT_SETS.items():
        scaled = one(manifests, "ScaledObject", name(f"worker-{set_name}"))
        assert scaled["spec"]["scaleTargetRef"]["name"] == name(f"worker-{set_name}")
        triggers = scaled["spec"]["triggers"]
        assert [t["metadata"]["listName"] for t in triggers] == spec["queues"]
        for trigger in triggers:
            assert trigger["type"] == "redis"
            assert trigger["metadata"]["address"] == f"{name('redis')}:6379"
            assert trigger["metadata"]["databaseIndex"] == "0"
            assert trigger["authenticationRef"]["name"] == name("keda-redis")
    reports = one(manifests, "ScaledObject", name("worker-reports"))
    assert reports["spec"]["minReplicaCount"] == 0
    assert [t["metadata"]["listLength"] for t in reports["spec"]["triggers"]] == ["2", "2"]
    assert [t["metadata"]["activationListLength"] for t in reports["spec"]["triggers"]] == ["1", "1"]
    assert one(manifests, "ScaledObject", name("worker-payments"))["spec"]["minReplicaCount"] == 1


def test_keda_reads_an_external_redis_from_its_url() -> None:
    manifests = render_cached(values_files=(ci_file("external-values"),))
    trigger = one(manifests, "ScaledObject", name("worker-payments"))["spec"]["triggers"][0]
    assert trigger["metadata"]["address"] == "redis.example.internal:6380"
    assert trigger["metadata"]["enableTLS"] == "true"
    assert secret_data(manifests)[(name("secrets"), "redis-password")] == "redis-password"


def test_keda_reads_a_sentinel_redis_through_its_sentinels() -> None:
    manifests = render_cached(values_files=(ci_file("external-sentinel-values"),))
    trigger = one(manifests, "ScaledObject", name("worker-notifications"))["spec"]["triggers"][0]
    assert trigger["type"] == "redis-sentinel"
    assert trigger["metadata"]["sentinelMaster"] == "tasklane"
    assert trigger["metadata"]["addresses"].split(",") == [
        f"sentinel-{i}.redis.internal:26379" for i in range(3)
    ]
    values = {"redis": {"enabled": False}, "externalRedis": {"url": "sentinel://:pw@s:26379"}}
    values["workers"] = {"defaults": {"autoscaling": {"type": "keda"}}}
    assert "externalRedis.sentinelMaster is required" in render_error(values)


def test_keda_with_the_broker_url_in_an_existing_secret_needs_the_address() -> None:
    values: dict[str, Any] = {
        "redis": {"enabled": False},
        "externalRedis": {"existingSecret": "broker"},
        "workers": {"defaults": {"autoscaling": {"type": "keda"}}},
    }
    assert "externalRedis.keda.address is required" in render_error(values)
    values["externalRedis"]["keda"] = {
        "address": "redis:6379",
        "databaseIndex": 3,
        "passwordSecret": {"name": "broker", "key": "password"},
    }
    manifests = render(copy.deepcopy(values))
    trigger = one(manifests, "ScaledObject", name("worker-reports"))["spec"]["triggers"][0]
    assert (trigger["metadata"]["address"], trigger["metadata"]["databaseIndex"]) == ("redis:6379", "3")
    ref = one(manifests, "TriggerAuthentication", name("keda-redis"))["spec"]["secretTargetRef"][0]
    assert (ref["name"], ref["key"]) == ("broker", "password")
    worker = container(worker_deployments(manifests)["reports"], "worker")
    env = resolved_env(manifests, worker, external={("broker", "broker-url"): "redis://:pw@redis:6379/3"})
    assert env["TASKLANE_BROKER_URL"] == "redis://:pw@redis:6379/3"
    assert "TASKLANE_RESULT_BACKEND_URL" not in env


def test_worker_probes_are_local_for_liveness_and_ping_for_readiness(default_render: list[Manifest]) -> None:
    for deployment in worker_deployments(default_render).values():
        worker = container(deployment, "worker")
        assert worker["livenessProbe"]["exec"]["command"] == [
            "tasklane", "health", "heartbeat", "--max-age", "60",
        ]  # fmt: skip
        ping = ["tasklane", "health", "ping", "--timeout", "10"]
        assert worker["readinessProbe"]["exec"]["command"] == ping
        assert worker["startupProbe"]["exec"]["command"] == ping
        assert worker["readinessProbe"]["timeoutSeconds"] > 10
        assert worker["startupProbe"]["timeoutSeconds"] > 10
        env = {e["name"]: e.get("value") for e in worker["env"]}
        assert env["TASKLANE_WORKER_HEARTBEAT_FILE"].startswith("/tmp/")
