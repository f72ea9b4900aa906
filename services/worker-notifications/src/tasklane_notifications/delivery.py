"""Exactly-once sending: claim the notification's dedupe key, send, and commit the claim together.

The claim is an INSERT into ``sent_notifications`` (unique ``dedupe_key``) inside the transaction that
stays open while the message is handed to the relay:
- a concurrent worker inserting the same key waits on the unique index, then finds it taken and skips;
- if sending fails the transaction rolls back, the claim disappears, and a retry can try again;
- if the database is lost after the relay accepted the message (the COMMIT fails), the worker knows it
  sent: the task's outage retry carries that (``EffectNotRecorded``), and the next attempt records the
  claim without sending again;
- only a worker dying between the relay's acceptance and the COMMIT can repeat an email, and the fixed
  Message-ID lets mail systems collapse that rare duplicate.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from sqlalchemy.dialects import postgresql, sqlite

from tasklane.db.engine import Database
from tasklane.db.models import SentNotification
from tasklane.outages import EffectNotRecorded, is_outage
from tasklane.telemetry.metrics import EMAILS_FAILED, EMAILS_SENT
from tasklane_notifications.mailer import Mailer
from tasklane_notifications.rendering import RenderedEmail
from tasklane_notifications.settings import NotificationsSettings


def build_message(
    settings: NotificationsSettings, rendered: RenderedEmail, recipients: Sequence[str], dedupe_key: str
) -> EmailMessage:
    """The email for ``recipients``: addressed to the first, the rest receive it as blind copies so one
    tenant's team members do not see each other's addresses."""
    message = EmailMessage()
    message["From"] = str(settings.smtp_sender)
    message["To"] = recipients[0]
    message["Subject"] = rendered.subject
    message["Date"] = formatdate(usegmt=True)
    digest = hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{settings.smtp_sender.email.split('@')[-1]}>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def send_once(
    database: Database,
    mailer: Mailer,
    message: EmailMessage,
    *,
    dedupe_key: str,
    kind: str,
    recipients: Sequence[str],
    business_id: uuid.UUID | None,
    task_id: str | None,
    sent_before: bool = False,
) -> bool:
    """Send ``message`` unless ``dedupe_key`` was already sent. Returns whether it was sent now.

    ``sent_before``: an earlier attempt handed it to the relay but could not record that; record it only.
    """
    insert = (postgresql.insert if database.is_postgresql else sqlite.insert)(SentNotification)
    claim = (
        insert.values(
            id=uuid.uuid4(),
            dedupe_key=dedupe_key,
            business_id=business_id,
            kind=kind,
            recipients=list(recipients),
            subject=str(message["Subject"]),
            task_id=task_id,
        )
        .on_conflict_do_nothing(index_elements=[SentNotification.dedupe_key])
        .returning(SentNotification.id)
    )
    handed_over = False
    try:
        with database.transaction() as session:
            if session.execute(claim).scalar_one_or_none() is None:
                return False
            if not sent_before:
                try:
                    mailer.send(message, recipients)
                except Exception:
                    EMAILS_FAILED.labels(template=kind).inc()
                    raise
                handed_over = True
                EMAILS_SENT.labels(template=kind).inc()
    except Exception as exc:
        if handed_over and is_outage(exc):
            raise EffectNotRecorded(f"email:{dedupe_key}", exc) from exc
        raise
    return True
