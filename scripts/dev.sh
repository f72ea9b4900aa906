#!/usr/bin/env bash
# `make dev`: the whole system on embedded defaults (SQLite, a private redis-server, a local SMTP capture).
# Ctrl-C stops everything. Ports and the state directory can be moved with the variables below.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh dev
command -v uv >/dev/null || export PATH="$HOME/.local/bin:$PATH"

dev_dir="${TASKLANE_DEV_DIR:-.dev}"
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
mkdir -p "$TASKLANE_DEV_MAIL_DIR"

uv run --no-sync tasklane db upgrade
demo_email="demo@tasklane.local"
if ! key_line=$(uv run --no-sync tasklane admin create-api-key --email "$demo_email" --name "make dev" 2>/dev/null); then
  key_line=$(uv run --no-sync tasklane admin create-business --name "Demo Shop" --email "$demo_email" --credits 100 | tail -n 1)
  uv run --no-sync tasklane demo-data --business-email "$demo_email" --products 60 --customers 200 --sales 5000 >/dev/null
fi
api_key="${key_line##*: }"

cat <<BANNER

  Tasklane is starting (Ctrl-C stops everything)
    API docs     http://127.0.0.1:$api_port/docs
    Demo API key $api_key
    Emails       $TASKLANE_DEV_MAIL_DIR/*.eml
    Try it       curl -sX POST http://127.0.0.1:$api_port/v1/users -H "Authorization: Bearer $api_key" \\
                   -H 'Content-Type: application/json' -d '{"email": "ada@example.com", "name": "Ada"}'

BANNER
exec uv run --no-sync honcho start -f Procfile
