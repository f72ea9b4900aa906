"""Beat, API, migrations, Flower, the bundled Redis and PostgreSQL, and `helm test`, as rendered."""

from __future__ import annotations

from typing import Any

from tests.chart.conftest import ci_file
from tests.chart.helm import (
    Manifest,
    container,
    containers,
    find,
    name,
    one,
    pod_spec,
    render,
    render_cached,
    render_error,
    resolved_env,
    secret_data,
)

EXTERNAL: dict[str, Any] = {
    "postgresql": {"enabled": False},
    "externalDatabase": {"url": "postgresql+psycopg://u:p@db:5432/tasklane"},
}


def test_beat_is_a_singleton_that_is_recreated(matrix: dict[str, list[Manifest]]) -> None:
    for stem, manifests in matrix.items():
        beats = [d for d in find(manifests, "Deployment") if "beat" in d["metadata"]["name"]]
        assert [b["metadata"]["name"] for b in beats] == [name("beat")], stem
        (beat,) = beats
        assert beat["spec"]["replicas"] == 1
        assert beat["spec"]["strategy"] == {"type": "Recreate"}
        assert container(beat, "beat")["command"] == ["tasklane-beat"]
        assert not any(
            s["spec"]["scaleTargetRef"]["name"] == name("beat")
            for s in find(manifests, "HorizontalPodAutoscaler") + find(manifests, "ScaledObject")
        ), stem
        for deployment in find(manifests, "Deployment"):
            for spec in containers(deployment):
                assert "-B" not in spec.get("args", []) and "--beat" not in spec.get("args", [])


def test_beat_cannot_be_given_replicas_and_its_lock_settings_come_from_values() -> None:
    assert "additional properties 'replicas' not allowed" in render_error({"beat": {"replicas": 2}})
    manifests = render({"beat": {"lockTimeout": 45, "maxLoopInterval": 3}})
    data = one(manifests, "ConfigMap", name("config"))["data"]
    assert (data["TASKLANE_BEAT_LOCK_TIMEOUT"], data["TASKLANE_BEAT_MAX_LOOP_INTERVAL"]) == ("45", "3")
    message = render_error({"beat": {"lockTimeout": 5, "maxLoopInterval": 5}})
    assert "beat.lockTimeout (5) must exceed beat.maxLoopInterval (5)" in message


def test_the_api_runs_gunicorn_with_probes_prestop_and_a_grace_period_above_its_graceful_timeout(
    default_render: list[Manifest],
) -> None:
    deployment = one(default_render, "Deployment", name("api"))
    api = container(deployment, "api")
    assert api["command"] == ["tasklane-api"]
    env = {e["name"]: e.get("value") for e in api["env"]}
    assert env["TASKLANE_API_BIND"] == "0.0.0.0:8000"
    assert (env["TASKLANE_API_WORKERS"], env["TASKLANE_API_TIMEOUT"]) == ("2", "30")
    assert (env["TASKLANE_API_GRACEFUL_TIMEOUT"], env["TASKLANE_API_KEEPALIVE"]) == ("30", "5")
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert api["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "10"]
    grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert grace > 10 + 30
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert one(default_render, "Service", name("api"))["spec"]["ports"][0]["targetPort"] == "http"
    assert one(default_render, "PodDisruptionBudget", name("api"))["spec"]["maxUnavailable"] == 1


def test_an_api_grace_period_below_prestop_plus_graceful_timeout_is_refused_naming_the_key() -> None:
    message = render_error({"api": {"terminationGracePeriodSeconds": 39}})
    assert "api.terminationGracePeriodSeconds (39) must be at least" in message
    manifests = render({"api": {"terminationGracePeriodSeconds": 40}})
    assert pod_spec(one(manifests, "Deployment", name("api")))["terminationGracePeriodSeconds"] == 40  # type: ignore[index]


def test_the_api_hpa_scales_on_cpu_and_memory_and_the_deployment_leaves_replicas_to_it() -> None:
    manifests = render_cached(values_files=(ci_file("hpa-values"),))
    hpa = one(manifests, "HorizontalPodAutoscaler", name("api"))
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 6)
    assert "replicas" not in one(manifests, "Deployment", name("api"))["spec"]


def test_the_ingress_routes_its_hosts_to_the_api_service() -> None:
    manifests = render_cached(values_files=(ci_file("external-values"),))
    ingress = one(manifests, "Ingress", name("api"))
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] == "tasklane.example.com"
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == name("api")
    assert "api.ingress.hosts needs at least one host" in render_error(
        {"api": {"ingress": {"enabled": True}}}
    )


def test_the_migration_job_is_a_plain_job_per_revision_by_default(default_render: list[Manifest]) -> None:
    (job,) = find(default_render, "Job")
    assert job["metadata"]["name"] == name("migrations-1")
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})
    assert container(job, "migrations")["command"] == ["tasklane", "db", "upgrade"]
    assert job["spec"]["backoffLimit"] == 6
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for kind in ("ConfigMap", "Secret", "ServiceAccount"):
        for manifest in find(default_render, kind):
            assert "helm.sh/hook" not in manifest["metadata"].get("annotations", {})


def test_with_helm_hooks_the_job_runs_pre_install_and_pre_upgrade_after_what_it_reads() -> None:
    manifests = render_cached(values_files=(ci_file("external-values"),))
    (job,) = find(manifests, "Job")
    annotations = job["metadata"]["annotations"]
    assert job["metadata"]["name"] == name("migrations")
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    job_weight = int(annotations["helm.sh/hook-weight"])
    prerequisites = [
        one(manifests, "ConfigMap", name("config")),
        one(manifests, "Secret", name("secrets")),
        one(manifests, "ServiceAccount", job["spec"]["template"]["spec"]["serviceAccountName"]),
    ]
    for manifest in prerequisites:
        hook = manifest["metadata"]["annotations"]
        assert set(hook["helm.sh/hook"].split(",")) >= {"pre-install", "pre-upgrade"}
        assert int(hook["helm.sh/hook-weight"]) < job_weight
    assert "helm.sh/hook" not in one(manifests, "ServiceAccount", name("api"))["metadata"].get(
        "annotations", {}
    )


def test_helm_hooks_with_the_bundled_postgresql_are_refused_naming_the_key() -> None:
    message = render_error({"migrations": {"useHelmHooks": True}})
    assert "migrations.useHelmHooks" in message and "postgresql.enabled" in message
    assert find(render({**EXTERNAL, "migrations": {"useHelmHooks": True}}), "Job")


def test_every_workload_waits_for_this_releases_schema(matrix: dict[str, list[Manifest]]) -> None:
    for stem, manifests in matrix.items():
        for deployment in find(manifests, "Deployment"):
            if deployment["metadata"]["name"] == name("flower"):
                continue
            (init,) = pod_spec(deployment)["initContainers"]  # type: ignore[index]
            assert init["command"] == ["tasklane", "db", "wait", "--timeout", "600"], stem
            main = pod_spec(deployment)["containers"][0]  # type: ignore[index]
            assert init["image"] == main["image"]
            assert init["envFrom"] == main["envFrom"], stem
            assert all(entry in main["env"] for entry in init["env"]), stem


def test_flower_uses_the_broker_and_basic_auth_from_a_secret() -> None:
    manifests = render_cached(values_files=(ci_file("flower-values"),))
    flower = one(manifests, "Deployment", name("flower"))
    spec = container(flower, "flower")
    assert spec["image"] == "docker.io/mher/flower:2.0"
    env = resolved_env(manifests, spec)
    user, _, password = env["FLOWER_BASIC_AUTH"].partition(":")
    assert user == "ops" and len(password) >= 20
    broker = secret_data(manifests)[(name("secrets"), "broker-url")]
    assert env["CELERY_BROKER_URL"] == broker
    assert one(manifests, "Service", name("flower"))["spec"]["ports"][0]["port"] == 5555
    assert not find(render_cached(), "Deployment", name("flower"))


def test_the_bundled_redis_keeps_an_append_only_file_and_never_evicts(default_render: list[Manifest]) -> None:
    redis = one(default_render, "StatefulSet", name("redis"))
    args = container(redis, "redis")["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert redis["spec"]["replicas"] == 1
    assert redis["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert container(redis, "redis")["volumeMounts"][0]["mountPath"] == "/data"


def test_the_bundled_postgresql_keeps_its_data_on_a_claim_and_shares_its_password_with_the_url(
    default_render: list[Manifest],
) -> None:
    postgresql = one(default_render, "StatefulSet", name("postgresql"))
    assert postgresql["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    env = resolved_env(default_render, container(postgresql, "postgresql"))
    url = secret_data(default_render)[(name("secrets"), "database-url")]
    assert url == (
        f"postgresql+psycopg://tasklane:{env['POSTGRES_PASSWORD']}@{name('postgresql')}:5432/tasklane"
    )
    assert len(env["POSTGRES_PASSWORD"]) >= 32


def test_external_services_render_no_bundled_statefulsets() -> None:
    manifests = render_cached(values_files=(ci_file("external-values"),))
    assert not find(manifests, "StatefulSet")
    data = secret_data(manifests)
    assert data[(name("secrets"), "database-url")].startswith("postgresql+psycopg://tasklane:db-password@")
    assert data[(name("secrets"), "result-backend-url")].endswith("/1")


def test_helm_test_waits_for_readyz_and_checks_the_openapi_document(default_render: list[Manifest]) -> None:
    pod = one(default_render, "Pod", name("test"))
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    spec = container(pod, "api-answers")
    script = spec["command"][2]
    assert "/readyz" in script and "/openapi.json" in script
    assert spec["env"] == [{"name": "API_URL", "value": f"http://{name('api')}:8000"}]
