"""task records carry what the reconciler needs to publish a task again

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25

Retries that wait longer than a worker may hold a message are kept on the record (``retries``,
``next_attempt_at``); a report's follow-up email is kept on it (``follow_up``) so a re-published report
still sends it; ``redeliveries`` caps how often a lost message is published again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tasklane.db.base import JSONType, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task_records") as batch:
        batch.add_column(sa.Column("retries", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("next_attempt_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("follow_up", JSONType, nullable=True))
        batch.add_column(sa.Column("redeliveries", sa.Integer(), server_default="0", nullable=False))
        batch.create_index("ix_task_records_status_updated_at", ["status", "updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("task_records") as batch:
        batch.drop_index("ix_task_records_status_updated_at")
        batch.drop_column("redeliveries")
        batch.drop_column("follow_up")
        batch.drop_column("next_attempt_at")
        batch.drop_column("retries")
