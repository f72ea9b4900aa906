"""task records and stored webhook events keep the trace they belong to

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25

``traceparent`` (W3C) is the span that recorded the work: what is published later from the row (the outbox,
a deferred retry, the payments relay) continues that trace, and ``GET /v1/tasks/{id}`` shows its trace id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("task_records", "payment_events"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("traceparent", sa.String(55), nullable=True))


def downgrade() -> None:
    for table in ("task_records", "payment_events"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("traceparent")
