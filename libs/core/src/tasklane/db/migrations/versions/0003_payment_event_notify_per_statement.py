"""notify the payments relay once per insert statement, not once per row

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

The webhook intake stores events in batches; the relay only needs waking, not one notice per event, so a
statement-level trigger over the inserted rows replaces the row-level one.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL only: on SQLite (development) the relay polls instead.


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER payment_events_notify_relay ON payment_events")
    op.execute("DROP FUNCTION tasklane_notify_payment_event()")
    op.execute(
        """
        CREATE FUNCTION tasklane_notify_payment_events() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF EXISTS (SELECT FROM inserted WHERE status = 'received') THEN
                PERFORM pg_notify('tasklane_payment_events', '');
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER payment_events_notify_relay
        AFTER INSERT ON payment_events
        REFERENCING NEW TABLE AS inserted
        FOR EACH STATEMENT
        EXECUTE FUNCTION tasklane_notify_payment_events()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER payment_events_notify_relay ON payment_events")
    op.execute("DROP FUNCTION tasklane_notify_payment_events()")
    op.execute(
        """
        CREATE FUNCTION tasklane_notify_payment_event() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('tasklane_payment_events', NEW.id::text);
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER payment_events_notify_relay
        AFTER INSERT ON payment_events
        FOR EACH ROW WHEN (NEW.status = 'received')
        EXECUTE FUNCTION tasklane_notify_payment_event()
        """
    )
