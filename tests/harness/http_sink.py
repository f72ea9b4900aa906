"""A small real HTTP server on a free port that keeps what is POSTed to it: the base of the OTLP and Sentry
receivers (an OpenTelemetry collector and Sentry itself cannot run here)."""

from __future__ import annotations

import gzip
import threading
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli

from tests.harness.ports import free_port


class HttpSink:
    def __init__(self, handle: Callable[[str, dict[str, str], bytes], tuple[int, bytes, str]]) -> None:
        """``handle(path, headers, body)`` returns (status, body, content type) and keeps what it wants."""
        self.port = free_port()
        self._handle = handle
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpSink:
        handle = self._handle

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                elif encoding == "br":  # what the Sentry SDK sends when Brotli is installed
                    body = brotli.decompress(body)
                status, answer, content_type = handle(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
