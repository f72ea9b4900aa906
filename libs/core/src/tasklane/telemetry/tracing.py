"""OpenTelemetry traces: one provider per process, exporting OTLP over HTTP, off without an endpoint.

Configured by the standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) turns it
on, ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` override the resource (the chart adds the pod and
namespace from the downward API), ``OTEL_TRACES_SAMPLER``/``_ARG`` choose the sampler. The spans come from
the instrumentations (Celery, psycopg, Redis here; FastAPI in the API); a database or Redis call made
outside any request or task (a worker polling its broker, the relay's idle sweep) starts no trace.

A trace's context also lives on task records and stored webhook events (``traceparent``), so work that is
published later from a record (the outbox, a deferred retry, the payments relay) continues its trace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, _get_from_env_or_default
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from tasklane.settings import Settings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("tasklane")
_PROPAGATOR = TraceContextTextMapPropagator()
INSTRUMENTATIONS = ("celery", "psycopg", "redis")


def enabled() -> bool:
    """Whether this process exports traces: an OTLP endpoint is set and the SDK is not disabled."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


class _NoOrphanClientSpans(Sampler):
    """The configured sampler, except that a client call (SQL, Redis) with no request or task around it
    starts no trace: a worker's broker polling would otherwise be most of what is exported."""

    def __init__(self, delegate: Sampler) -> None:
        self._delegate = delegate

    def should_sample(  # noqa: PLR0917  (the SDK's signature)
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Any = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if kind == SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self._delegate.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"NoOrphanClientSpans{{{self._delegate.get_description()}}}"


def _resource(settings: Settings, service_name: str) -> Resource:
    defaults = {
        "service.name": service_name,
        "service.namespace": "tasklane",
        "service.version": version("tasklane-core"),
        "deployment.environment": settings.environment,
    }
    given = OTELResourceDetector().detect().attributes  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
    return Resource.create({k: v for k, v in defaults.items() if k not in given})


def configure_tracing(
    settings: Settings, service_name: str, instrument: Sequence[str] = INSTRUMENTATIONS
) -> bool:
    """Set this process's tracer provider and instrument ``instrument``; False (and nothing done) when
    tracing is off. A process forked from one that is configured keeps its parent's provider (the SDK
    restarts the exporter's thread in the child), so calling this again there changes nothing."""
    if not enabled():
        return False
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        # Imported here: without an endpoint none of the exporter's dependencies load.
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider = TracerProvider(
            resource=_resource(settings, service_name),
            sampler=_NoOrphanClientSpans(_get_from_env_or_default()),
        )
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
        trace.set_tracer_provider(provider)
    for name in instrument:
        _instrument(name)
    return True


def _instrument(name: str) -> None:
    if name == "celery":
        from opentelemetry.instrumentation.celery import CeleryInstrumentor

        instrumentor: Any = CeleryInstrumentor()  # type: ignore[no-untyped-call]
    elif name == "psycopg":
        from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

        instrumentor = PsycopgInstrumentor()
    elif name == "redis":
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        instrumentor = RedisInstrumentor()
    else:
        raise ValueError(f"no instrumentation {name!r}")
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()


def shutdown() -> None:
    """Export what is buffered (a process about to exit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to store with work that is published later."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def trace_id(traceparent: str | None) -> str | None:
    """The trace id (32 hex digits) in a ``traceparent``."""
    parts = (traceparent or "").split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def link_to(traceparent: str | None) -> Link | None:
    """A span link to the span a stored ``traceparent`` names (a batch joining many traces)."""
    span = trace.get_current_span(_PROPAGATOR.extract({"traceparent": traceparent or ""}))
    context = span.get_span_context()
    return Link(context) if context.is_valid else None


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Run the block as part of the trace ``traceparent`` names (when it names one)."""
    if not traceparent:
        yield
        return
    token = otel_context.attach(_PROPAGATOR.extract({"traceparent": traceparent}))
    try:
        yield
    finally:
        otel_context.detach(token)
