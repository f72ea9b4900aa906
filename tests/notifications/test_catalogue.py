"""Every notification in the catalogue, against seeded data, a real worker and a real SMTP server."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import parse_qs, urlparse

import pytest
from celery import Celery

from tasklane.contracts.notifications import (
    CHECK_EXPIRING_PRODUCTS,
    SEND_CREDIT_PURCHASE_NOTIFICATION,
    SEND_LOW_CREDIT_ALERT,
    SEND_LOW_STOCK_ALERT,
    SEND_REMINDER,
    SEND_REPORT_READY,
    SEND_STOCK_MOVEMENT_REPORT,
    CheckExpiringProducts,
    SendCreditPurchaseNotification,
    SendLowCreditAlert,
    SendLowStockAlert,
    SendReminder,
    SendReportReady,
    SendStockMovementReport,
)
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import (
    Business,
    CreditPurchase,
    PurchaseStatus,
    Reminder,
    ReminderStatus,
    ReportArtifact,
    TaskRecord,
    TaskStatus,
)
from tasklane.settings import Settings
from tasklane.signing import signature_valid
from tests.conftest import Tenant
from tests.harness.seed import add_movement, add_product, add_user
from tests.harness.smtp_server import SmtpServer
from tests.harness.tasks import run_task

pytestmark = pytest.mark.usefixtures("notifications_worker")


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def team(database: Database, tenant: Tenant) -> dict[str, str]:
    """An owner plus one user who gets alerts, one who opted out, one deactivated."""
    suffix = tenant.id.hex[:8]
    emails = {
        "member": f"member-{suffix}@shop.test",
        "opted_out": f"quiet-{suffix}@shop.test",
        "deactivated": f"gone-{suffix}@shop.test",
    }
    add_user(database, tenant.id, emails["member"])
    add_user(database, tenant.id, emails["opted_out"], opted_out=True)
    add_user(database, tenant.id, emails["deactivated"], deactivated=True)
    return {"owner": tenant.owner_email, **emails}


def assert_delivered_to_team(smtp: SmtpServer, team: dict[str, str]) -> EmailMessage:
    message = smtp.wait_for_message_to(team["owner"])
    assert smtp.envelopes[smtp.messages.index(message)] == [team["owner"], team["member"]]
    assert message["To"] == team["owner"], "other recipients must be blind copies"
    return message


def test_low_stock_alert_lists_products_at_or_below_reorder_level(
    celery: Celery, database: Database, tenant: Tenant, team: dict[str, str], smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "OUT-1", name="Rice 5kg", stock=0, reorder=10)
    add_product(database, tenant.id, "EDGE-1", name="Beans 1kg", stock=10, reorder=10)
    add_product(database, tenant.id, "FINE-1", name="Sugar 1kg", stock=11, reorder=10)

    record = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))

    assert record.status == TaskStatus.COMPLETED, record.error
    assert record.result is not None
    assert record.result["products"] == 2
    message = assert_delivered_to_team(smtp, team)
    assert message["Subject"] == f"2 products at or below reorder level at {tenant.name}"
    text = text_of(message)
    assert "OUT-1  Rice 5kg: 0 in stock (reorder at 10)" in text
    assert "EDGE-1  Beans 1kg: 10 in stock (reorder at 10)" in text
    assert "FINE-1" not in text
    assert text.index("OUT-1") < text.index("EDGE-1"), "the most urgent product comes first"
    assert "<td>Rice 5kg</td>" in html_of(message)


def test_low_stock_alert_for_given_products_only(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    chosen = add_product(database, tenant.id, "A", stock=1, reorder=5)
    add_product(database, tenant.id, "B", stock=1, reorder=5)

    record = run_task(
        celery,
        database,
        SEND_LOW_STOCK_ALERT,
        SendLowStockAlert(business_id=tenant.id, product_ids=[chosen.id]),
    )

    assert record.result is not None
    assert record.result["products"] == 1
    text = text_of(smtp.wait_for_message_to(tenant.owner_email))
    assert "- A  " in text
    assert "- B  " not in text


def test_low_stock_alert_sends_nothing_when_nothing_is_low(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "FULL", stock=50, reorder=5)

    record = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))

    assert record.status == TaskStatus.COMPLETED
    assert record.result == {
        "sent": False,
        "reason": "no products at or below their reorder level",
        "recipients": [],
        "products": 0,
    }
    smtp.settle(0.5)
    assert smtp.messages_to(tenant.owner_email) == []


def test_a_second_low_stock_alert_in_the_same_window_for_the_same_products_is_not_sent(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "LOW", stock=1, reorder=5)

    first = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))
    second = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))
    add_product(database, tenant.id, "NEWLY-LOW", stock=0, reorder=5)
    third = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))

    assert first.result is not None and first.result["sent"] is True
    assert second.result is not None and second.result["sent"] is False
    assert third.result is not None and third.result["sent"] is True, "a different set of products is news"
    smtp.settle(0.5)
    assert len(smtp.messages_to(tenant.owner_email)) == 2


def test_stock_movement_report_sums_in_and_out_per_product_over_the_period(
    celery: Celery, database: Database, tenant: Tenant, team: dict[str, str], smtp: SmtpServer
) -> None:
    rice = add_product(database, tenant.id, "RICE", name="Rice", stock=40, reorder=5)
    oil = add_product(database, tenant.id, "OIL", name="Oil", stock=7, reorder=5)
    add_product(database, tenant.id, "IDLE", stock=3, reorder=1)
    add_movement(database, rice, 50, days_ago=6)
    add_movement(database, rice, -8, days_ago=2)
    add_movement(database, rice, -2, days_ago=1)
    add_movement(database, oil, -3, days_ago=3)
    add_movement(database, oil, 100, days_ago=30)  # outside the 7-day period

    record = run_task(
        celery,
        database,
        SEND_STOCK_MOVEMENT_REPORT,
        SendStockMovementReport(business_id=tenant.id, period_days=7),
    )

    assert record.status == TaskStatus.COMPLETED, record.error
    text = text_of(assert_delivered_to_team(smtp, team))
    assert "RICE  Rice: in 50, out 10, net +40, now 40" in text
    assert "OIL  Oil: in 0, out 3, net -3, now 7" in text
    assert "IDLE" not in text
    assert "Total: 50 in, 13 out across 2 products." in text


def test_stock_movement_report_sends_nothing_without_movements(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    old = add_product(database, tenant.id, "OLD", stock=3, reorder=1)
    add_movement(database, old, 5, days_ago=20)

    record = run_task(
        celery,
        database,
        SEND_STOCK_MOVEMENT_REPORT,
        SendStockMovementReport(business_id=tenant.id, period_days=7),
    )

    assert record.result is not None and record.result["sent"] is False
    smtp.settle(0.5)
    assert smtp.messages_to(tenant.owner_email) == []


def test_expiring_products_are_grouped_by_week_with_expired_ones_flagged(
    celery: Celery, database: Database, tenant: Tenant, team: dict[str, str], smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "MILK", name="Milk", stock=4, reorder=1, expires_in_days=-2)
    add_product(database, tenant.id, "BREAD", name="Bread", stock=6, reorder=1, expires_in_days=3)
    add_product(database, tenant.id, "HONEY", name="Honey", stock=2, reorder=1, expires_in_days=20)
    add_product(database, tenant.id, "GONE", stock=0, reorder=1, expires_in_days=1)  # nothing left to sell
    add_product(database, tenant.id, "LATER", stock=5, reorder=1, expires_in_days=60)

    record = run_task(
        celery,
        database,
        CHECK_EXPIRING_PRODUCTS,
        CheckExpiringProducts(business_id=tenant.id, days_threshold=30),
    )

    assert record.result is not None
    assert (record.result["products"], record.result["expired"]) == (3, 1)
    message = assert_delivered_to_team(smtp, team)
    assert message["Subject"] == f"3 products expiring within 30 days at {tenant.name} (1 already expired)"
    text = text_of(message)
    today = date.today()
    expired_section = text.split("ALREADY EXPIRED", 1)[1].split("Week of", 1)[0]
    assert f"MILK  Milk: expired {today - timedelta(days=2)}" in expired_section
    bread_day = today + timedelta(days=3)
    honey_day = today + timedelta(days=20)
    assert f"Week of {bread_day - timedelta(days=bread_day.weekday())}" in text
    assert f"Week of {honey_day - timedelta(days=honey_day.weekday())}" in text
    assert "GONE" not in text
    assert "LATER" not in text


def test_expiring_products_sends_nothing_when_nothing_expires_soon(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "LATER", stock=5, reorder=1, expires_in_days=60)

    record = run_task(celery, database, CHECK_EXPIRING_PRODUCTS, CheckExpiringProducts(business_id=tenant.id))

    assert record.result is not None and record.result["sent"] is False
    smtp.settle(0.5)
    assert smtp.messages_to(tenant.owner_email) == []


def test_low_credit_alert_is_sent_while_the_crossing_is_outstanding_and_only_then(
    celery: Celery, database: Database, tenant: Tenant, team: dict[str, str], smtp: SmtpServer
) -> None:
    payload = SendLowCreditAlert(
        business_id=tenant.id, current_balance=Decimal("4.50"), threshold=Decimal("10")
    )
    not_armed = run_task(celery, database, SEND_LOW_CREDIT_ALERT, payload)
    with database.transaction() as session:
        session.get_one(Business, tenant.id).low_credit_alerted_at = utcnow()

    armed = run_task(celery, database, SEND_LOW_CREDIT_ALERT, payload)
    again = run_task(celery, database, SEND_LOW_CREDIT_ALERT, payload)

    assert not_armed.result is not None and not_armed.result["sent"] is False
    assert armed.result is not None and armed.result["sent"] is True
    assert again.result is not None and again.result["sent"] is False
    message = assert_delivered_to_team(smtp, team)
    assert message["Subject"] == "Your AI credit balance is low (4.50 left)"
    assert "below your alert threshold of 10" in text_of(message)
    smtp.settle(0.5)
    assert len(smtp.messages_to(team["owner"])) == 1


def test_report_ready_email_links_to_a_signed_expiring_download(
    celery: Celery, database: Database, tenant: Tenant, settings: Settings, smtp: SmtpServer
) -> None:
    task_id = str(uuid.uuid4())
    with database.transaction() as session:
        session.add(
            TaskRecord(
                id=task_id,
                business_id=tenant.id,
                name="reports.generate_sales_report",
                queue="reports",
                status=TaskStatus.COMPLETED,
            )
        )
        artifact = ReportArtifact(
            business_id=tenant.id,
            task_id=task_id,
            filename="sales-2026-01.csv",
            content_type="text/csv",
            size_bytes=2048,
            sha256="0" * 64,
            expires_at=utcnow() + timedelta(days=7),
        )
        session.add(artifact)

    record = run_task(
        celery, database, SEND_REPORT_READY, SendReportReady(business_id=tenant.id, task_id=task_id)
    )

    assert record.status == TaskStatus.COMPLETED, record.error
    message = smtp.wait_for_message_to(tenant.owner_email)
    assert message["Subject"] == "Your report sales-2026-01.csv is ready"
    link = next(line for line in text_of(message).splitlines() if "/v1/artifacts/" in line).strip()
    url = urlparse(link)
    query = parse_qs(url.query)
    assert url.path == f"/v1/artifacts/{artifact.id}"
    expires = int(query["expires"][0])
    assert signature_valid(
        settings, artifact.id, expires=expires, signature=query["signature"][0], now=utcnow()
    )
    assert expires - utcnow().timestamp() == pytest.approx(settings.report_link_ttl, abs=60)
    assert not signature_valid(
        settings, uuid.uuid4(), expires=expires, signature=query["signature"][0], now=utcnow()
    ), "a signature must not open another artifact"


def test_report_ready_for_a_task_without_a_file_fails_clearly(
    celery: Celery, database: Database, tenant: Tenant
) -> None:
    record = run_task(
        celery, database, SEND_REPORT_READY, SendReportReady(business_id=tenant.id, task_id="nope")
    )

    assert record.status == TaskStatus.FAILED
    assert record.error == "task nope produced no report file for this business"
    assert record.attempts == 1


def _purchase(database: Database, tenant: Tenant, status: PurchaseStatus) -> CreditPurchase:
    with database.transaction() as session:
        purchase = CreditPurchase(
            business_id=tenant.id,
            reference=f"TL-{uuid.uuid4().hex[:12]}",
            provider="paystack",
            credits=Decimal("250"),
            amount_minor=500000,
            currency="NGN",
            status=status,
            paid_at=utcnow() if status == PurchaseStatus.PAID else None,
        )
        session.add(purchase)
        session.get_one(Business, tenant.id).credit_balance = Decimal("260.00")
    return purchase


def test_credit_purchase_receipt(
    celery: Celery, database: Database, tenant: Tenant, team: dict[str, str], smtp: SmtpServer
) -> None:
    purchase = _purchase(database, tenant, PurchaseStatus.PAID)

    record = run_task(
        celery,
        database,
        SEND_CREDIT_PURCHASE_NOTIFICATION,
        SendCreditPurchaseNotification(purchase_id=purchase.id),
    )

    assert record.status == TaskStatus.COMPLETED, record.error
    message = assert_delivered_to_team(smtp, team)
    assert message["Subject"] == f"Receipt: 250.00 AI credits ({purchase.reference})"
    text = text_of(message)
    assert "Paid:       NGN 5,000.00" in text
    assert "Your balance is now 260.00 credits." in text


def test_no_receipt_for_an_unpaid_purchase(celery: Celery, database: Database, tenant: Tenant) -> None:
    purchase = _purchase(database, tenant, PurchaseStatus.PENDING)

    record = run_task(
        celery,
        database,
        SEND_CREDIT_PURCHASE_NOTIFICATION,
        SendCreditPurchaseNotification(purchase_id=purchase.id),
    )

    assert record.status == TaskStatus.FAILED
    assert record.error == f"credit purchase {purchase.reference} is pending, not paid"


def test_reminder_goes_to_its_own_recipients_and_a_cancelled_one_is_not_sent(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    with database.transaction() as session:
        due = Reminder(
            business_id=tenant.id,
            message="Count the stock in the back room\nBring the clipboard.",
            remind_at=utcnow(),
            recipients=["stock@shop.test"],
        )
        cancelled = Reminder(
            business_id=tenant.id, message="Never", remind_at=utcnow(), status=ReminderStatus.CANCELLED
        )
        session.add_all([due, cancelled])

    sent = run_task(celery, database, SEND_REMINDER, SendReminder(reminder_id=due.id))
    skipped = run_task(celery, database, SEND_REMINDER, SendReminder(reminder_id=cancelled.id))

    assert sent.result is not None and sent.result["recipients"] == ["stock@shop.test"]
    message = smtp.wait_for_message_to("stock@shop.test")
    assert message["Subject"] == "Reminder: Count the stock in the back room"
    assert "Bring the clipboard." in text_of(message)
    assert skipped.result is not None and skipped.result["sent"] is False
    smtp.settle(0.5)
    assert smtp.messages_to(tenant.owner_email) == []


def test_a_task_for_a_missing_business_fails_without_retrying(celery: Celery, database: Database) -> None:
    missing = uuid.uuid4()

    record = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=missing))

    assert record.status == TaskStatus.FAILED
    assert record.error == f"business {missing} does not exist"
    assert record.attempts == 1
