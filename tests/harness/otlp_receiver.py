"""An OTLP/HTTP trace receiver: decodes the protobuf export requests with opentelemetry-proto and keeps
every span, flattened, for tests to find whole traces in."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from tests.harness.http_sink import HttpSink
from tests.harness.ports import wait_for


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str
    name: str
    kind: str  # SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL
    service: str
    scope: str  # the instrumentation that made it ("fastapi", "opentelemetry.instrumentation.celery", ...)
    attributes: dict[str, Any] = field(hash=False)
    links: tuple[str, ...] = ()  # trace ids of linked spans

    def __repr__(self) -> str:
        return f"<{self.service} {self.kind} {self.name!r} {self.span_id} <- {self.parent_id or '-'}>"


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.lock = threading.Lock()
        self._sink = HttpSink(self._handle)

    @property
    def endpoint(self) -> str:
        """What ``OTEL_EXPORTER_OTLP_ENDPOINT`` points at (the exporter appends ``/v1/traces``)."""
        return self._sink.url

    def start(self) -> OtlpReceiver:
        self._sink.start()
        return self

    def stop(self) -> None:
        self._sink.stop()

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if path != "/v1/traces":
            return 404, b"", "text/plain"
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(
                        Span(
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex(),
                            name=span.name,
                            kind=ProtoSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                            service=str(resource.get("service.name")),
                            scope=scope_spans.scope.name,
                            attributes={a.key: _value(a.value) for a in span.attributes}
                            | {f"resource.{k}": v for k, v in resource.items()},
                            links=tuple(link.trace_id.hex() for link in span.links),
                        )
                    )
        with self.lock:
            self.spans.extend(spans)
        return 200, ExportTraceServiceResponse().SerializeToString(), "application/x-protobuf"

    def trace(self, trace_id: str) -> list[Span]:
        with self.lock:
            return [s for s in self.spans if s.trace_id == trace_id]

    def wait_for_span(self, predicate: Any, *, timeout: float = 30, what: str = "a span") -> Span:
        def find() -> Span | None:
            with self.lock:
                return next((s for s in self.spans if predicate(s)), None)

        found: Span = wait_for(find, timeout=timeout, interval=0.2, what=what)
        return found
