"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import tasklane.db.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "businesses",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner_email", sa.String(length=320), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("credit_balance", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("low_credit_threshold", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("low_credit_alerted_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("credit_balance >= 0", name=op.f("ck_businesses_credit_balance_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_businesses")),
        sa.UniqueConstraint("owner_email", name=op.f("uq_businesses_owner_email")),
    )
    op.create_table(
        "payment_events",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "received",
                "queued",
                "processed",
                "ignored",
                "failed",
                name="payment_event_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("received_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_events")),
        sa.UniqueConstraint("provider", "event_key", name=op.f("uq_payment_events_provider_event_key")),
    )
    op.create_index(op.f("ix_payment_events_reference"), "payment_events", ["reference"], unique=False)
    op.create_table(
        "api_keys",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_api_keys_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_index(op.f("ix_api_keys_business_id"), "api_keys", ["business_id"], unique=False)
    op.create_table(
        "credit_ledger",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "purchase",
                "usage",
                "adjustment",
                name="ledger_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("delta", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("balance_after", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_credit_ledger_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_ledger")),
        sa.UniqueConstraint("reference", name=op.f("uq_credit_ledger_reference")),
    )
    op.create_index(op.f("ix_credit_ledger_business_id"), "credit_ledger", ["business_id"], unique=False)
    op.create_table(
        "credit_purchases",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("credits", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "paid",
                "needs_review",
                "failed",
                name="purchase_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("review_reason", sa.String(length=500), nullable=True),
        sa.Column("paid_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_credit_purchases_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_purchases")),
        sa.UniqueConstraint("reference", name=op.f("uq_credit_purchases_reference")),
    )
    op.create_index(
        op.f("ix_credit_purchases_business_id"), "credit_purchases", ["business_id"], unique=False
    )
    op.create_table(
        "customers",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_customers_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_business_id"), "customers", ["business_id"], unique=False)
    op.create_table(
        "products",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("stock_quantity", sa.Integer(), nullable=False),
        sa.Column("reorder_level", sa.Integer(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_products_price_not_negative")),
        sa.CheckConstraint("reorder_level >= 0", name=op.f("ck_products_reorder_level_not_negative")),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_products_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
        sa.UniqueConstraint("business_id", "sku", name=op.f("uq_products_business_id_sku")),
    )
    op.create_index(
        "ix_products_business_id_expiry_date", "products", ["business_id", "expiry_date"], unique=False
    )
    op.create_table(
        "reminders",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("remind_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "recipients",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "dispatched",
                "cancelled",
                name="reminder_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("dispatched_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_reminders_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminders")),
    )
    op.create_index(op.f("ix_reminders_business_id"), "reminders", ["business_id"], unique=False)
    op.create_index("ix_reminders_status_remind_at", "reminders", ["status", "remind_at"], unique=False)
    op.create_table(
        "report_artifacts",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage", sa.String(length=20), nullable=False),
        sa.Column("storage_key", sa.String(length=500), nullable=True),
        sa.Column("expires_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_report_artifacts_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_artifacts")),
    )
    op.create_index(
        op.f("ix_report_artifacts_business_id"), "report_artifacts", ["business_id"], unique=False
    )
    op.create_index(op.f("ix_report_artifacts_expires_at"), "report_artifacts", ["expires_at"], unique=False)
    op.create_index(op.f("ix_report_artifacts_task_id"), "report_artifacts", ["task_id"], unique=False)
    op.create_table(
        "sent_notifications",
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=60), nullable=False),
        sa.Column(
            "recipients",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("sent_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_sent_notifications_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_sent_notifications_dedupe_key")),
    )
    op.create_index(
        op.f("ix_sent_notifications_business_id"), "sent_notifications", ["business_id"], unique=False
    )
    op.create_table(
        "task_records",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=50), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "processing",
                "retrying",
                "completed",
                "failed",
                "cancelled",
                name="task_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column(
            "kwargs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "result",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("updated_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("progress >= 0 AND progress <= 100", name=op.f("ck_task_records_progress_range")),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_task_records_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_records")),
    )
    op.create_index(
        "ix_task_records_business_id_created_at", "task_records", ["business_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_task_records_status_finished_at", "task_records", ["status", "finished_at"], unique=False
    )
    op.create_table(
        "users",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("last_active_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("alerts_opt_out", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            tasklane.db.base.UTCDateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_users_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("business_id", "email", name=op.f("uq_users_business_id_email")),
    )
    op.create_table(
        "artifact_chunks",
        sa.Column("artifact_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["artifact_id"],
            ["report_artifacts.id"],
            name=op.f("fk_artifact_chunks_artifact_id_report_artifacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("artifact_id", "seq", name=op.f("pk_artifact_chunks")),
    )
    op.create_table(
        "sales_transactions",
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("occurred_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("total_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("payment_method", sa.String(length=20), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_sales_transactions_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_sales_transactions_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sales_transactions_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_transactions")),
    )
    op.create_index(
        "ix_sales_transactions_business_id_occurred_at",
        "sales_transactions",
        ["business_id", "occurred_at"],
        unique=False,
    )
    op.create_index(op.f("ix_sales_transactions_user_id"), "sales_transactions", ["user_id"], unique=False)
    op.create_table(
        "stock_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("business_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "restock",
                "sale",
                "adjustment",
                "return",
                name="movement_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", tasklane.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_stock_movements_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_stock_movements_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movements")),
    )
    op.create_index(
        "ix_stock_movements_business_id_occurred_at",
        "stock_movements",
        ["business_id", "occurred_at"],
        unique=False,
    )
    op.create_index(op.f("ix_stock_movements_product_id"), "stock_movements", ["product_id"], unique=False)
    op.create_table(
        "sale_line_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=False),
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("line_total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_sale_line_items_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["sales_transactions.id"],
            name=op.f("fk_sale_line_items_transaction_id_sales_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_line_items")),
    )
    op.create_index(op.f("ix_sale_line_items_product_id"), "sale_line_items", ["product_id"], unique=False)
    op.create_index(
        op.f("ix_sale_line_items_transaction_id"), "sale_line_items", ["transaction_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sale_line_items_transaction_id"), table_name="sale_line_items")
    op.drop_index(op.f("ix_sale_line_items_product_id"), table_name="sale_line_items")
    op.drop_table("sale_line_items")
    op.drop_index(op.f("ix_stock_movements_product_id"), table_name="stock_movements")
    op.drop_index("ix_stock_movements_business_id_occurred_at", table_name="stock_movements")
    op.drop_table("stock_movements")
    op.drop_index(op.f("ix_sales_transactions_user_id"), table_name="sales_transactions")
    op.drop_index("ix_sales_transactions_business_id_occurred_at", table_name="sales_transactions")
    op.drop_table("sales_transactions")
    op.drop_table("artifact_chunks")
    op.drop_table("users")
    op.drop_index("ix_task_records_status_finished_at", table_name="task_records")
    op.drop_index("ix_task_records_business_id_created_at", table_name="task_records")
    op.drop_table("task_records")
    op.drop_index(op.f("ix_sent_notifications_business_id"), table_name="sent_notifications")
    op.drop_table("sent_notifications")
    op.drop_index(op.f("ix_report_artifacts_task_id"), table_name="report_artifacts")
    op.drop_index(op.f("ix_report_artifacts_expires_at"), table_name="report_artifacts")
    op.drop_index(op.f("ix_report_artifacts_business_id"), table_name="report_artifacts")
    op.drop_table("report_artifacts")
    op.drop_index("ix_reminders_status_remind_at", table_name="reminders")
    op.drop_index(op.f("ix_reminders_business_id"), table_name="reminders")
    op.drop_table("reminders")
    op.drop_index("ix_products_business_id_expiry_date", table_name="products")
    op.drop_table("products")
    op.drop_index(op.f("ix_customers_business_id"), table_name="customers")
    op.drop_table("customers")
    op.drop_index(op.f("ix_credit_purchases_business_id"), table_name="credit_purchases")
    op.drop_table("credit_purchases")
    op.drop_index(op.f("ix_credit_ledger_business_id"), table_name="credit_ledger")
    op.drop_table("credit_ledger")
    op.drop_index(op.f("ix_api_keys_business_id"), table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_index(op.f("ix_payment_events_reference"), table_name="payment_events")
    op.drop_table("payment_events")
    op.drop_table("businesses")
