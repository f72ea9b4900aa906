"""Sending one email through the SMTP relay, with failures sorted into transient and permanent."""

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

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if s.smtp_security == "tls":
            return smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=ssl.create_default_context()
            )
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        if s.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        """Hand ``message`` for ``recipients`` to the relay; raise Transient/PermanentDeliveryError."""
        # No instrumentation covers smtplib: this span is the relay's part of the task's trace.
        attributes: dict[str, str | int] = {
            "server.address": self._settings.smtp_host,
            "server.port": self._settings.smtp_port,
            "tasklane.email.recipients": len(recipients),
        }
        with tracer.start_as_current_span("smtp send", kind=SpanKind.CLIENT, attributes=attributes):
            self._send(message, recipients)

    def _send(self, message: EmailMessage, recipients: Sequence[str]) -> None:
        try:
            with self._connect() as smtp:
                if self._settings.smtp_username:
                    password = self._settings.smtp_password
                    smtp.login(self._settings.smtp_username, password.get_secret_value() if password else "")
                smtp.send_message(message, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            # Every recipient was refused; transient only if every refusal was.
            codes = [code for code, _ in exc.recipients.values()]
            first_code, first_text = next(iter(exc.recipients.values()))
            if all(400 <= code < 500 for code in codes):
                raise TransientDeliveryError(f"SMTP {first_code}: recipients deferred") from exc
            raise _classify(max(codes), first_text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise TransientDeliveryError(f"mail server unreachable: {exc}") from exc
