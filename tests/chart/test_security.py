"""Pod Security Standard "restricted" on every pod of every render, ServiceAccounts without tokens, and the
NetworkPolicies."""

from __future__ import annotations

from typing import Any

from tests.chart.conftest import ci_file
from tests.chart.helm import (
    Manifest,
    containers,
    find,
    name,
    one,
    pod_spec,
    render_cached,
    tasklane_containers,
)

# Volume types the "restricted" profile allows.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    return [m for m in manifests if pod_spec(m) is not None]


def pod_violations(where: str, pod: dict[str, Any]) -> list[str]:
    problems = [f"{where}: {field}" for field in ("hostNetwork", "hostPID", "hostIPC") if pod.get(field)]
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            problems.append(f"{where}: volume {volume['name']} is {kinds}")
    context = pod.get("securityContext", {})
    if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        problems.append(f"{where}: pod seccompProfile is not RuntimeDefault")
    if context.get("runAsUser") == 0:
        problems.append(f"{where}: pod runs as root")
    return problems


def container_violations(who: str, spec: dict[str, Any], pod: dict[str, Any]) -> list[str]:
    context = spec.get("securityContext", {})
    capabilities = context.get("capabilities", {})
    checks = {
        "allowPrivilegeEscalation is not false": context.get("allowPrivilegeEscalation") is not False,
        "privileged": bool(context.get("privileged")),
        f"capabilities {capabilities}": capabilities.get("drop") != ["ALL"]
        or bool(set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}),
        "runAsNonRoot is not set": not (
            context.get("runAsNonRoot") or pod.get("securityContext", {}).get("runAsNonRoot")
        ),
        "runs as root": context.get("runAsUser") == 0,
        f"seccompProfile {context.get('seccompProfile')}": context.get("seccompProfile", {}).get(
            "type", "RuntimeDefault"
        )
        != "RuntimeDefault",
        "hostPort": any(port.get("hostPort") for port in spec.get("ports", [])),
        # Beyond the standard, what this chart promises: a read-only root with /tmp on an emptyDir.
        "root filesystem is writable": context.get("readOnlyRootFilesystem") is not True,
    }
    problems = [f"{who}: {problem}" for problem, broken in checks.items() if broken]
    tmp = [m for m in spec.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    if len(tmp) != 1 or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
        problems.append(f"{who}: /tmp is not an emptyDir")
    return problems


def restricted_violations(manifest: Manifest) -> list[str]:
    """What in ``manifest``'s pod breaks the "restricted" Pod Security Standard (v1.29+)."""
    pod: dict[str, Any] = pod_spec(manifest)  # type: ignore[assignment]
    where = f"{manifest['kind']}/{manifest['metadata']['name']}"
    problems = pod_violations(where, pod)
    for spec in containers(manifest):
        problems += container_violations(f"{where} container {spec['name']}", spec, pod)
    return problems


def test_every_pod_of_every_render_meets_pss_restricted(matrix: dict[str, list[Manifest]]) -> None:
    problems = [
        f"{stem}: {problem}"
        for stem, manifests in matrix.items()
        for manifest in workloads(manifests)
        for problem in restricted_violations(manifest)
    ]
    assert not problems, "\n".join(problems)


def test_the_pss_check_catches_a_violation(default_render: list[Manifest]) -> None:
    beat = one(default_render, "Deployment", name("beat"))
    assert restricted_violations(beat) == []
    beat["spec"]["template"]["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    beat["spec"]["template"]["spec"]["volumes"].append({"name": "host", "hostPath": {"path": "/"}})
    assert len(restricted_violations(beat)) == 2


def test_tasklane_pods_run_as_uid_10001(matrix: dict[str, list[Manifest]]) -> None:
    for stem, manifests in matrix.items():
        owners = {id(manifest): manifest for manifest, _ in tasklane_containers(manifests)}
        assert owners, stem
        for manifest in owners.values():
            context = pod_spec(manifest)["securityContext"]  # type: ignore[index]
            assert (context["runAsUser"], context["runAsGroup"]) == (10001, 10001), stem


def test_one_service_account_per_component_and_no_token_anywhere(matrix: dict[str, list[Manifest]]) -> None:
    for stem, manifests in matrix.items():
        accounts = {a["metadata"]["name"]: a for a in find(manifests, "ServiceAccount")}
        assert all(a["automountServiceAccountToken"] is False for a in accounts.values()), stem
        by_component: dict[str, set[str]] = {}
        for manifest in workloads(manifests):
            pod = pod_spec(manifest)
            assert pod is not None
            assert pod["automountServiceAccountToken"] is False, stem
            assert pod["serviceAccountName"] in accounts, f"{stem}: {pod['serviceAccountName']}"
            component = manifest["metadata"]["labels"]["app.kubernetes.io/component"]
            by_component.setdefault(pod["serviceAccountName"], set()).add(component)
        shared = {account: comps for account, comps in by_component.items() if len(comps - {"test"}) > 1}
        assert not shared, f"{stem}: components sharing a ServiceAccount: {shared}"


def policies(manifests: list[Manifest]) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p["spec"] for p in find(manifests, "NetworkPolicy")}


def test_network_policies_deny_by_default_and_allow_only_what_each_component_needs() -> None:
    manifests = render_cached(values_files=(ci_file("networkpolicies-values"),))
    specs = policies(manifests)
    deny = specs[name("default-deny")]
    assert deny["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "tl",
        "app.kubernetes.io/name": "tasklane",
    }
    assert deny["policyTypes"] == ["Ingress", "Egress"]
    # Into every pod of the release, only Prometheus to the metrics port (from anywhere, as no peers are set).
    assert deny["ingress"] == [{"ports": [{"protocol": "TCP", "port": 9100}]}]
    assert {p["port"] for rule in deny["egress"] for p in rule["ports"]} == {53}
    workers = specs[name("worker")]
    assert "ingress" not in workers and "Ingress" in workers["policyTypes"]
    worker_ports = {p["port"] for rule in workers["egress"] for p in rule["ports"]}
    assert worker_ports == {6379, 5432, 25}
    api = specs[name("api")]
    (ingress,) = api["ingress"]
    assert ingress["ports"] == [{"protocol": "TCP", "port": 8000}]
    namespaces = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for peer in ingress["from"]
        if "namespaceSelector" in peer
    ]
    assert namespaces == ["ingress-nginx"]
    assert {p["port"] for rule in api["egress"] for p in rule["ports"]} == {6379, 5432}
    assert {p["port"] for rule in specs[name("migrations")]["egress"] for p in rule["ports"]} == {5432}
    redis_from = specs[name("redis")]["ingress"][0]["from"]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "keda"}}} in redis_from
    assert not find(render_cached(), "NetworkPolicy")


def test_network_policies_to_external_services_open_their_ports() -> None:
    values_file = ci_file("external-sentinel-values")
    manifests = render_cached(values={"networkPolicies": {"enabled": True}}, values_files=(values_file,))
    specs = policies(manifests)
    assert name("redis") not in specs and name("postgresql") not in specs
    ports = {p["port"] for rule in specs[name("beat")]["egress"] for p in rule["ports"]}
    assert ports == {6379, 26379, 5432}
