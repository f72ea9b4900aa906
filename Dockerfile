# syntax=docker/dockerfile:1
# The one build recipe for all five Tasklane images; the service is a build argument. From the repo root:
#   docker build --build-arg SERVICE=worker-reports -t tasklane-worker-reports .
# SERVICE is a folder under services/: api, worker-notifications, worker-reports, worker-payments or beat.
# Its distribution and its entry point are both named tasklane-$SERVICE. `make images` (scripts/images.sh)
# builds all five with buildah or docker and adds the version, revision and source labels.
#
# Why one parametrised Dockerfile and not five Dockerfiles plus a shared script: the images differ only in
# which workspace member is installed and which entry point runs, so a service is a build argument, and
# everything else (base, uv, user, labels, hardening) is written once, here.
# docker, buildah and the test that replays the `uv sync` steps all read this same file, with no
# generated copies to keep in step.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG SERVICE=api

# uv validates the lock against every workspace member, so keep each member's pyproject.toml and no code:
# the dependency layer below is then rebuilt only when uv.lock or a pyproject.toml changes.
FROM ${PYTHON_IMAGE} AS manifests
WORKDIR /src
COPY libs libs
COPY services services
RUN find libs services -type f ! -name pyproject.toml -delete

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
# CA bundle that downloads during the build trust (uv's own default is its built-in roots). With buildah,
# scripts/images.sh mounts the host's bundle read-only over this path for the build steps only (for a
# proxy with its own CA): the file in the image stays the base's own.
ARG SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ARG PIP_CERT=${SSL_CERT_FILE}
# binutils strips debug sections from compiled extensions (a fifth of the venv); build stage only.
# hadolint ignore=DL3008
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils >/dev/null
# uv in a venv of its own: neither Debian's nor the official image's Python gets packages installed into it.
RUN python3 -m venv /opt/uv \
    && /opt/uv/bin/pip install --no-cache-dir --disable-pip-version-check "uv>=0.13,<0.14" \
    && ln -s /opt/uv/bin/uv /usr/local/bin/uv
ENV UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY --from=manifests /src ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-workspace --package tasklane-${SERVICE}
COPY libs libs
COPY services/${SERVICE} services/${SERVICE}
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable --package tasklane-${SERVICE}
# Debug information in some wheels' extensions (uvloop, SQLAlchemy's Cython modules) is never used at run
# time, so the files that carry it lose it. Then bytecode for the modules this service loads (Tasklane's
# own and the libraries they import), not for the whole venv: scripts/image_bytecode.py says why.
COPY scripts/image_bytecode.py /tmp/image_bytecode.py
RUN ln -s "tasklane-${SERVICE}" .venv/bin/tasklane-service \
    && find .venv -name '*.so' -type f \
        -exec sh -c 'readelf -S "$1" | grep -q "\.debug_info" && strip --strip-debug "$1"' strip {} \; \
    && .venv/bin/python /tmp/image_bytecode.py

# The runtime holds the base image and the venv (tasklane-core and this one service, installed as wheels,
# bytecode compiled at build time) and nothing else: no uv, no repository sources, no caches, no dev
# dependencies.
# The venv's python links to the base's interpreter, which is at the same path here as in the build stage.
FROM ${PYTHON_IMAGE} AS runtime
RUN useradd --system --no-log-init --uid 10001 --user-group --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin tasklane
COPY --from=build /app/.venv /app/.venv
# Read-only root filesystem: nothing writes outside /tmp (heartbeat, report scratch files, gunicorn's
# worker heartbeats), and no .pyc files are written at run time.
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001

# Every service is its entry point in exec form (PID 1, so it gets the stop signal itself), linked in the
# build stage as `tasklane-service`: one stage fits every service, and a new service needs no line here.
# SIGTERM is each one's graceful stop: gunicorn finishes in-flight requests within
# TASKLANE_API_GRACEFUL_TIMEOUT; a celery worker's entry point remaps it to Celery's soft shutdown (running
# tasks get TASKLANE_WORKER_SOFT_SHUTDOWN_TIMEOUT, unfinished ones go back to the queue); beat releases its
# RedBeat lock on the way out. The API listens on TASKLANE_API_BIND (0.0.0.0:8000); the chart declares the port.
STOPSIGNAL SIGTERM
CMD ["tasklane-service"]

# Labels come last: a new commit changes only this metadata, never a cached layer above.
ARG SERVICE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=unknown
LABEL org.opencontainers.image.title="tasklane-${SERVICE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE_URL}"
