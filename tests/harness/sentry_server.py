"""A stand-in for Sentry's ingest: accepts the SDK's envelopes on ``/api/<project>/envelope/`` and keeps
each item (events, check-ins...) with its raw text, so tests can count them and search them for secrets."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from tests.harness.http_sink import HttpSink


@dataclass(frozen=True)
class Item:
    type: str
    payload: dict[str, Any]
    raw: str


class SentryServer:
    def __init__(self) -> None:
        self.items: list[Item] = []
        self._lock = threading.Lock()
        self._sink = HttpSink(self._handle)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self._sink.port}/1"

    def start(self) -> SentryServer:
        self._sink.start()
        return self

    def stop(self) -> None:
        self._sink.stop()

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        if not path.startswith("/api/1/envelope"):
            return 404, b"", "text/plain"
        items, cursor = [], body.find(b"\n") + 1  # after the envelope's own header
        while 0 < cursor < len(body):
            end = body.find(b"\n", cursor)
            end = len(body) if end == -1 else end
            if not body[cursor:end].strip():
                cursor = end + 1
                continue
            header = json.loads(body[cursor:end])
            cursor = end + 1
            length = header.get("length")
            if length is None:  # the payload runs to the end of its line
                end = body.find(b"\n", cursor)
                end = len(body) if end == -1 else end
                raw, cursor = body[cursor:end], end + 1
            else:
                raw, cursor = body[cursor : cursor + length], cursor + length + 1
            text = raw.decode("utf-8", "replace")
            try:
                payload = json.loads(text)
            except ValueError:
                payload = {}
            items.append(Item(header.get("type", ""), payload, text))
        with self._lock:
            self.items.extend(items)
        return 200, b"{}", "application/json"

    def of_type(self, kind: str) -> list[Item]:
        with self._lock:
            return [item for item in self.items if item.type == kind]
