#!/usr/bin/env bash
# Installs what Tasklane needs on a fresh Debian machine, then syncs the uv workspace.
#   scripts/bootstrap.sh dev    uv, redis-server
#   scripts/bootstrap.sh test   uv, redis-server, PostgreSQL server binaries, Chromium (browser tests)
#   scripts/bootstrap.sh bench  what test needs, plus wrk (load generator)
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

if ! command -v uv >/dev/null; then
  say "installing uv from PyPI"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  hash -r
  command -v uv >/dev/null || export PATH="$HOME/.local/bin:$PATH"
  command -v uv >/dev/null || die "uv was installed but is not on PATH; add $(python3 -m site --user-base)/bin to PATH"
fi

say "syncing the uv workspace"
uv sync --locked --all-packages --quiet
