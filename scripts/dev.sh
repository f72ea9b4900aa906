#!/usr/bin/env bash
# `make dev`: the whole system on embedded defaults (SQLite, a private redis-server, a local SMTP capture).
# Ctrl-C stops everything. Ports and the state directory can be moved with the variables below.
# It writes $dev_dir/env: `source .dev/env` in another terminal gives that shell the same configuration,
# the `tasklane` commands on PATH and the demo API key as $KEY.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
command -v uv >/dev/null || export PATH="$HOME/.local/bin:$PATH"

dev_dir="$(mkdir -p "${TASKLANE_DEV_DIR:-.dev}" && cd "${TASKLANE_DEV_DIR:-.dev}" && pwd)"
api_port="${TASKLANE_DEV_API_PORT:-8000}"
export TASKLANE_DEV_REDIS_PORT="${TASKLANE_DEV_REDIS_PORT:-6390}"
export TASKLANE_DEV_MAIL_DIR="$dev_dir/mail"
export TASKLANE_ENVIRONMENT=development
export TASKLANE_DATABASE_URL="${TASKLANE_DATABASE_URL:-sqlite:///$dev_dir/tasklane.db}"
export TASKLANE_BROKER_URL="redis://127.0.0.1:$TASKLANE_DEV_REDIS_PORT/0"
export TASKLANE_SMTP_HOST=127.0.0.1
export TASKLANE_SMTP_PORT="${TASKLANE_DEV_SMTP_PORT:-8025}"
export TASKLANE_PUBLIC_BASE_URL="http://127.0.0.1:$api_port"
export TASKLANE_API_BIND="127.0.0.1:$api_port"
export TASKLANE_API_WORKERS="${TASKLANE_API_WORKERS:-1}"
export TASKLANE_WORKER_CONCURRENCY="${TASKLANE_WORKER_CONCURRENCY:-2}"
export TASKLANE_EMAIL_RETRY_BACKOFF="${TASKLANE_EMAIL_RETRY_BACKOFF:-2}"
# Webhooks need a secret to verify; this one signs the README's example deliveries. Never deploy it.
export TASKLANE_PAYSTACK_SECRET_KEY="${TASKLANE_PAYSTACK_SECRET_KEY:-sk_test_tasklane_development_only}"
mkdir -p "$TASKLANE_DEV_MAIL_DIR"

uv run --no-sync tasklane db upgrade
demo_email="demo@tasklane.local"
if ! key_line=$(uv run --no-sync tasklane admin create-api-key --email "$demo_email" --name "make dev" 2>/dev/null); then
  key_line=$(uv run --no-sync tasklane admin create-business --name "Demo Shop" --email "$demo_email" --credits 100 | tail -n 1)
  uv run --no-sync python -m tools.demo_data --business-email "$demo_email" --products 60 --customers 200 --sales 5000 >/dev/null
fi
api_key="${key_line##*: }"

{
  echo "# Written by \`make dev\`: \`source $dev_dir/env\` to use the running dev stack from this shell."
  for name in $(compgen -e | grep '^TASKLANE_' | sort); do printf 'export %s=%q\n' "$name" "${!name}"; done
  printf 'export PATH=%q:"$HOME/.local/bin:$PATH"\n' "$PWD/.venv/bin"
  printf 'export API=%q KEY=%q\n' "http://127.0.0.1:$api_port" "$api_key"
} >"$dev_dir/env"

cat <<BANNER

  Tasklane is starting (Ctrl-C stops everything)
    API docs     http://127.0.0.1:$api_port/docs     reports page http://127.0.0.1:$api_port/ui/
    Emails       $TASKLANE_DEV_MAIL_DIR/*.eml      Redis log $dev_dir/redis.log
    Demo API key $api_key

  In another terminal, the README's commands work as printed after:
    source $dev_dir/env      # configuration, \`tasklane\` on PATH, \$API and \$KEY
  or just the address and the key:
    export API=http://127.0.0.1:$api_port KEY=$api_key

  Try it
    curl -fsS -X POST \$API/v1/users -H "Authorization: Bearer \$KEY" \\
      -H 'Content-Type: application/json' -d '{"email": "ada@example.com", "name": "Ada"}'
  A signed Paystack webhook, as the provider sends one (after \`source $dev_dir/env\`):
    BODY='{"event": "charge.success", "data": {"id": 1, "reference": "TL-UNKNOWN", "amount": 20000, "currency": "NGN"}}'
    curl -fsS -X POST \$API/v1/webhooks/paystack -H 'Content-Type: application/json' -d "\$BODY" \\
      -H "X-Paystack-Signature: \$(printf %s "\$BODY" | openssl dgst -sha512 -hmac "\$TASKLANE_PAYSTACK_SECRET_KEY" -r | cut -d' ' -f1)"

BANNER
# Redis runs beside honcho rather than under it: on Ctrl-C it must outlive the workers, which hand their
# unfinished tasks back to it during their soft shutdown (and cannot even say goodbye without it).
redis-server --port "$TASKLANE_DEV_REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --daemonize yes --pidfile "$dev_dir/redis.pid" --logfile "$dev_dir/redis.log"
stop_redis() {  # and wait until it is gone, so its port is free when `make dev` returns
  local pid
  pid=$(cat "$dev_dir/redis.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}
trap stop_redis EXIT
# One process per service folder (tools/workspace.py): a new service runs here with no line added.
uv run --no-sync python -m tools.workspace procfile >"$dev_dir/Procfile"
uv run --no-sync python scripts/dev_procs.py start -f "$dev_dir/Procfile" -d .
