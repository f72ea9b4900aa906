from __future__ import annotations

import email
import email.policy
import threading
import time
from collections import deque
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.harness.ports import free_port, port_open, wait_for


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if self.server.rcpt_delay:
            import asyncio

            await asyncio.sleep(self.server.rcpt_delay)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:
        reply = self.server._next_reply()
        if reply is not None:
            return reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.server._store(message, list(envelope.rcpt_tos), session.peer)
        return "250 Message accepted for delivery"


class SmtpServer:
    """A real SMTP server (aiosmtpd) on a free port that keeps what it receives.

    It can be stopped and started on the same port, answer the next messages with a chosen reply code,
    or stall at RCPT to simulate a slow relay.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.peers: list[tuple[str, int]] = []  # the client end of the connection each message came over
        self.rcpt_delay = 0.0
        self._replies: deque[str] = deque()
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        wait_for(lambda: port_open(self.port), timeout=10, what="smtp server")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def reply_next(self, reply: str, times: int = 1) -> None:
        """Answer the next ``times`` messages with ``reply`` (e.g. "421 try later") instead of accepting."""
        with self._lock:
            self._replies.extend([reply] * times)

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()
            self.peers.clear()
            self._replies.clear()
        self.rcpt_delay = 0.0

    def _next_reply(self) -> str | None:
        with self._lock:
            return self._replies.popleft() if self._replies else None

    def _store(self, message: EmailMessage, rcpt_tos: list[str], peer: tuple[str, int]) -> None:
        with self._lock:
            self.messages.append(message)
            self.envelopes.append(rcpt_tos)
            self.peers.append(peer)

    def connections(self) -> int:
        """How many client connections the messages so far came over."""
        with self._lock:
            return len(set(self.peers))

    def received(self) -> list[tuple[list[str], str]]:
        """Every message so far: its envelope recipients and its subject."""
        with self._lock:
            return [
                (list(rcpts), str(m["Subject"]))
                for m, rcpts in zip(self.messages, self.envelopes, strict=True)
            ]

    def messages_to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [m for m, rcpts in zip(self.messages, self.envelopes, strict=True) if address in rcpts]

    def wait_for_message_to(self, address: str, timeout: float = 30) -> EmailMessage:
        found: list[EmailMessage] = wait_for(
            lambda: self.messages_to(address), timeout=timeout, what=f"an email to {address}"
        )
        return found[0]

    def settle(self, seconds: float = 1.5) -> None:
        """Give in-flight deliveries time to land before asserting that nothing more arrived."""
        time.sleep(seconds)
