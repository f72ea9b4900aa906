# Tasklane: `make dev` runs everything locally; `make test` checks everything. Both do their own set-up.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: dev test lint typecheck imports pytest setup-test migration clean docs bench bench-fanout bench-reports bench-webhooks

dev:
	scripts/dev.sh

test: setup-test lint typecheck imports pytest

setup-test:
	scripts/bootstrap.sh test

lint:
	uv run --no-sync ruff check .
	uv run --no-sync ruff format --check .

typecheck:
	uv run --no-sync mypy

imports:
	uv run --no-sync lint-imports

pytest:
	uv run --no-sync pytest $(PYTEST_ARGS)

# Generate a migration from model changes against a scratch SQLite database: make migration m="add x"
migration:
	rm -f /tmp/tasklane-migration.db
	cd libs/core && TASKLANE_ENVIRONMENT=development TASKLANE_DATABASE_URL=sqlite:////tmp/tasklane-migration.db \
		uv run --no-sync alembic upgrade head && \
		TASKLANE_ENVIRONMENT=development TASKLANE_DATABASE_URL=sqlite:////tmp/tasklane-migration.db \
		uv run --no-sync alembic revision --autogenerate -m "$(m)"

clean:
	rm -rf .dev .pytest_cache .mypy_cache .ruff_cache

# Regenerate the README's settings table from the Settings model.
docs:
	uv run --no-sync python -m tasklane.settings_doc README.md

# Benchmarks print figures side by side in one run; they assert nothing about speed.
bench: bench-fanout bench-reports bench-webhooks

bench-fanout: setup-test
	uv run --no-sync python -m benchmarks.fanout

bench-reports: setup-test
	uv run --no-sync python -m benchmarks.reports

bench-webhooks: setup-test
	command -v wrk >/dev/null || scripts/bootstrap.sh bench
	uv run --no-sync python -m benchmarks.webhooks
