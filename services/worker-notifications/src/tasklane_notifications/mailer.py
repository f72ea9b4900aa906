"""Sending email through the SMTP relay, with failures sorted into transient and permanent.

Each worker process keeps one connection to the relay and sends every email over it: a connection per
email costs a TCP (and TLS) handshake, EHLO and QUIT, several times what sending the message takes. The
connection is opened on the first send (after the pool's fork), and a connection the relay closed while
idle is noticed at the next send, before any message is handed over, and replaced once.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from opentelemetry.trace import SpanKind

from tasklane.errors import PermanentTaskError
from tasklane.telemetry.tracing import tracer
from tasklane_notifications.settings import NotificationsSettings


class TransientDeliveryError(Exception):
    """The relay could not take the message now (down, timing out, or a 4xx reply); retrying may work."""


class PermanentDeliveryError(PermanentTaskError):
    """The relay refused the message for good (a 5xx reply); retrying would be refused again."""


def _classify(code: int, message: bytes | str) -> Exception:
    text = message.decode(errors="replace") if isinstance(message, bytes) else message
    if 400 <= code < 500:
        return TransientDeliveryError(f"SMTP {code}: {text}")
    return PermanentDeliveryError(f"the mail server refused the message: SMTP {code} {text}")


class Mailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.smtp_security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            if s.smtp_security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if s.smtp_username:
            try:
                smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
            except BaseException:
                smtp.close()
                raise
        return smtp

    def close(self) -> None:
        """Say goodbye to the relay (a worker process shutting down)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        """Hand ``message`` for ``recipients`` to the relay; raise Transient/PermanentDeliveryError."""
        # No instrumentation covers smtplib: this span is the relay's part of the task's trace.
        attributes: dict[str, str | int] = {
            "server.address": self._settings.smtp_host,
            "server.port": self._settings.smtp_port,
            "tasklane.email.recipients": len(recipients),
        }
        with tracer.start_as_current_span("smtp send", kind=SpanKind.CLIENT, attributes=attributes):
            try:
                self._send(message, recipients)
            except smtplib.SMTPRecipientsRefused as exc:
                # Every recipient was refused; transient only if every refusal was.
                codes = [code for code, _ in exc.recipients.values()]
                first_code, first_text = next(iter(exc.recipients.values()))
                if all(400 <= code < 500 for code in codes):
                    raise TransientDeliveryError(f"SMTP {first_code}: recipients deferred") from exc
                raise _classify(max(codes), first_text) from exc
            except smtplib.SMTPResponseException as exc:
                # smtplib has reset the transaction; the connection stays for the next email.
                raise _classify(exc.smtp_code, exc.smtp_error) from exc
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                self.close()
                raise TransientDeliveryError(f"mail server unreachable: {exc}") from exc

    def _send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        if self._smtp is not None:
            try:
                # RSET: the kept connection is alive and clean, or we learn it is not before sending.
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()
        if self._smtp is None:
            self._smtp = self._connect()
        self._smtp.send_message(message, to_addrs=list(recipients))
