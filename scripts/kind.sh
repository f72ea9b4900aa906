#!/usr/bin/env bash
# Tasklane on a local kind cluster (README "Deploy on Kubernetes"). One step per call:
#   scripts/kind.sh up        create the cluster (k8s/kind/cluster.yaml); KEDA=1 also installs KEDA
#   scripts/kind.sh images    build the five images with Docker (make images) and load them into the cluster
#   scripts/kind.sh install   helm upgrade --install --wait with k8s/kind/values.yaml (KEDA=1 adds keda-values.yaml)
#   scripts/kind.sh smoke     create a tenant with the CLI in the API pod, request a report, poll it to completed
#   scripts/kind.sh loadtest  loadtest/locustfile.py as a Job in the cluster (k8s/loadtest/), then loadtest.summary
#                             (USERS, SPAWN_RATE, DURATION as for make loadtest)
#   scripts/kind.sh down      delete the cluster
# Every step needs Docker (a running engine) and kind, and says so plainly when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
step="${1:-}"

CLUSTER="${KIND_CLUSTER:-tasklane}"
RELEASE="${RELEASE:-tasklane}"
NAMESPACE="${NAMESPACE:-tasklane}"
KEDA="${KEDA:-0}"
KEDA_VERSION="${KEDA_VERSION:-2.20.2}"
API_URL="${API_URL:-http://127.0.0.1:8000}"
CONTEXT="kind-$CLUSTER"
IMAGES=(tasklane-api tasklane-worker-reports tasklane-worker-notifications tasklane-worker-payments tasklane-beat)

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'kind.sh %s: %s\n' "$step" "$*" >&2; exit 1; }

need_docker_and_kind() {
  command -v docker >/dev/null \
    || die "docker is not installed; kind runs its nodes as Docker containers (https://docs.docker.com/engine/install/)"
  docker info >/dev/null 2>&1 \
    || die "no Docker engine answers ('docker info' failed): start Docker, or check that you may use its socket"
  command -v kind >/dev/null \
    || die "kind is not installed (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)"
}

tool() {  # helm and kubectl: the project's (scripts/bootstrap.sh test) or one on PATH
  if [[ -x ".tools/bin/$1" ]]; then echo ".tools/bin/$1"; return; fi
  command -v "$1" >/dev/null || die "$1 is not installed; scripts/bootstrap.sh test installs it into .tools/bin"
  command -v "$1"
}

need_cluster() {
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER" || die "no kind cluster '$CLUSTER': run make kind-up first"
}

app_version() { sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' charts/tasklane/Chart.yaml; }

up() {
  if kind get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
    say "kind cluster $CLUSTER already exists"
  else
    say "creating kind cluster $CLUSTER (1 control plane, 2 workers; API on $API_URL)"
    kind create cluster --name "$CLUSTER" --config k8s/kind/cluster.yaml --wait 180s
  fi
  if [[ "$KEDA" == 1 ]]; then
    local helm; helm="$(tool helm)"
    say "installing KEDA $KEDA_VERSION"
    "$helm" repo add kedacore https://kedacore.github.io/charts --force-update >/dev/null
    "$helm" upgrade --install keda kedacore/keda --version "$KEDA_VERSION" --namespace keda --create-namespace \
      --kube-context "$CONTEXT" --wait --timeout 5m
  fi
}

images() {
  need_cluster
  grep -q '^images:' Makefile || die "'make images' does not exist yet (the images work, issue 13, adds it)"
  say "building the images with Docker (make images)"
  IMAGE_BUILDER=docker make images
  local version; version="$(app_version)"
  for image in "${IMAGES[@]}"; do
    say "loading $image:$version into $CLUSTER"
    kind load docker-image --name "$CLUSTER" "$image:$version"
  done
}

install() {
  need_cluster
  local helm; helm="$(tool helm)"
  local values=(--values k8s/kind/values.yaml)
  [[ "$KEDA" == 1 ]] && values+=(--values k8s/kind/keda-values.yaml)
  local kubectl; kubectl="$(tool kubectl)"
  say "Mailpit, the cluster's mail relay (k8s/kind/mailpit.yaml)"
  "$kubectl" --context "$CONTEXT" create namespace "$NAMESPACE" --dry-run=client -o yaml \
    | "$kubectl" --context "$CONTEXT" apply -f - >/dev/null
  "$kubectl" --context "$CONTEXT" --namespace "$NAMESPACE" apply -f k8s/kind/mailpit.yaml
  say "helm upgrade --install $RELEASE (namespace $NAMESPACE)"
  "$helm" upgrade --install "$RELEASE" charts/tasklane --namespace "$NAMESPACE" --create-namespace \
    --kube-context "$CONTEXT" "${values[@]}" --wait --timeout 10m
  "$helm" test "$RELEASE" --namespace "$NAMESPACE" --kube-context "$CONTEXT" --logs
}

json() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

smoke() {
  need_cluster
  command -v curl >/dev/null || die "curl is not installed"
  local kubectl; kubectl="$(tool kubectl)"
  local email; email="smoke-$(date +%s)@example.com"
  say "creating a tenant with the CLI in the API pod"
  local created
  created="$("$kubectl" --context "$CONTEXT" --namespace "$NAMESPACE" exec "deploy/$RELEASE-api" -c api -- \
    tasklane admin create-business --name "Smoke Shop" --email "$email")"
  echo "$created"
  local key; key="$(sed -n 's/^API key (shown once, store it now): //p' <<<"$created")"
  [[ -n "$key" ]] || die "no API key in the CLI's answer"
  say "requesting an inventory report ($API_URL)"
  local task
  task="$(curl -fsS -X POST "$API_URL/v1/reports/inventory" -H "Authorization: Bearer $key" \
    -H 'Content-Type: application/json' -d '{"format": "csv"}' | json '["task_id"]')"
  local status="" deadline=$((SECONDS + 300))
  while ((SECONDS < deadline)); do
    status="$(curl -fsS "$API_URL/v1/tasks/$task?wait=20" -H "Authorization: Bearer $key" | json '["status"]')"
    say "task $task: $status"
    case "$status" in
      completed) say "smoke test passed"; return 0 ;;
      failed|cancelled) die "the report ended $status" ;;
    esac
  done
  die "the report was still $status after 300 s"
}

loadtest() {
  need_cluster
  local kubectl; kubectl="$(tool kubectl)"
  local k=("$kubectl" --context "$CONTEXT" --namespace "$NAMESPACE")
  local users="${USERS:-20}" rate="${SPAWN_RATE:-5}" duration="${DURATION:-2m}" out=".bench/kind-loadtest"
  mkdir -p "$out"
  say "creating 4 tenants with the CLI in the API pod"
  local tenants="[" stamp; stamp="$(date +%s)"
  for i in 1 2 3 4; do
    local email="load-$i-$stamp@loadtest.example.com" created key
    created="$("${k[@]}" exec "deploy/$RELEASE-api" -c api -- tasklane admin create-business \
      --name "Load Shop $i" --email "$email" --credits 1000000)"
    key="$(sed -n 's/^API key (shown once, store it now): //p' <<<"$created")"
    [[ -n "$key" ]] || die "no API key in the CLI's answer: $created"
    tenants+="$([[ $i == 1 ]] || echo ,){\"email\": \"$email\", \"key\": \"$key\", \"credits\": 1000000}"
  done
  echo "$tenants]" >"$out/tenants.json"
  local apply=("${k[@]}" apply -f -)
  "${k[@]}" create secret generic tasklane-loadtest-tenants --from-file=tenants.json="$out/tenants.json" \
    --dry-run=client -o yaml | "${apply[@]}"
  "${k[@]}" create configmap tasklane-loadtest --from-file=locustfile.py=loadtest/locustfile.py \
    --dry-run=client -o yaml | "${apply[@]}"
  "${k[@]}" create configmap tasklane-loadtest-settings --from-literal=LOCUST_USERS="$users" \
    --from-literal=LOCUST_SPAWN_RATE="$rate" --from-literal=LOCUST_RUN_TIME="$duration" \
    --from-literal=LOCUST_HOST="http://$RELEASE-api:8000" --dry-run=client -o yaml | "${apply[@]}"
  "${k[@]}" delete job tasklane-loadtest --ignore-not-found --wait=true
  "${k[@]}" apply -f k8s/loadtest/locust-job.yaml
  say "locust in the cluster: $users users, spawn rate $rate, $duration"
  if ! "${k[@]}" wait --for=condition=complete job/tasklane-loadtest --timeout=3600s; then
    "${k[@]}" logs job/tasklane-loadtest --tail 50 || true
    die "the load test Job did not complete"
  fi
  "${k[@]}" logs job/tasklane-loadtest >"$out/locust.log"
  grep -v '^LOADTEST-LEDGER ' "$out/locust.log" || true
  say "checking every task, email and credit (loadtest.summary; Mailpit through a port-forward)"
  "${k[@]}" port-forward svc/tasklane-mailpit 18025:8025 >/dev/null &
  local forward=$!
  trap 'kill $forward 2>/dev/null' EXIT
  sleep 2
  uv run --no-sync python -m loadtest.summary --ledger "$out/locust.log" --api "$API_URL" \
    --tenants "$out/tenants.json" --mailpit http://127.0.0.1:18025
}

down() {
  kind delete cluster --name "$CLUSTER"
}

case "$step" in
  up|images|install|smoke|loadtest|down) need_docker_and_kind; "$step" ;;
  *) echo "usage: scripts/kind.sh up|images|install|smoke|loadtest|down" >&2; exit 2 ;;
esac
