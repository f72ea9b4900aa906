"""notify the payments relay of each stored payment event

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL only: on SQLite (development) the relay polls instead.


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
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


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER payment_events_notify_relay ON payment_events")
    op.execute("DROP FUNCTION tasklane_notify_payment_event()")
