"""Paystack webhooks against the real API, payments worker, notifications worker and SMTP server.

Paystack itself cannot run here: the tests play it, sending the bodies it documents, signed as it signs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tasklane.db.engine import Database
from tasklane.db.models import (
    Business,
    CreditLedgerEntry,
    CreditPurchase,
    PaymentEvent,
    PaymentEventStatus,
    PurchaseStatus,
    TaskRecord,
)
from tasklane_api.main import create_app
from tests.conftest import Tenant
from tests.harness import paystack
from tests.harness.ports import wait_for
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import PAYSTACK_SECRET, Services, settings_from_env, start_api_server, tasklane_env

WEBHOOK = "/v1/webhooks/paystack"


def buy(api: TestClient, tenant: Tenant, credits: int = 100, currency: str = "NGN") -> dict[str, Any]:
    response = api.post(
        "/v1/credit-purchases", json={"credits": credits, "currency": currency}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    purchase: dict[str, Any] = response.json()
    return purchase


def balance(database: Database, tenant: Tenant) -> Decimal:
    with database.session() as session:
        return session.get_one(Business, tenant.id).credit_balance


def ledger(database: Database, tenant: Tenant) -> list[CreditLedgerEntry]:
    with database.session() as session:
        return list(
            session.scalars(select(CreditLedgerEntry).where(CreditLedgerEntry.business_id == tenant.id))
        )


def events_for(database: Database, reference: str) -> list[PaymentEvent]:
    with database.session() as session:
        return list(session.scalars(select(PaymentEvent).where(PaymentEvent.reference == reference)))


def queued_task_id(database: Database, reference: str) -> str:
    """The task the payments relay published for the (single) event with this reference."""

    def published() -> str | None:
        events = events_for(database, reference)
        return events[0].task_id if len(events) == 1 else None

    task_id: str = wait_for(published, timeout=30, what=f"the relay to queue {reference}")
    return task_id


def purchase_status(database: Database, reference: str) -> CreditPurchase:
    with database.session() as session:
        return session.scalars(select(CreditPurchase).where(CreditPurchase.reference == reference)).one()


def wait_paid(database: Database, reference: str) -> CreditPurchase:
    def settled() -> CreditPurchase | None:
        purchase = purchase_status(database, reference)
        return purchase if purchase.status != PurchaseStatus.PENDING else None

    found: CreditPurchase = wait_for(settled, timeout=30, what=f"purchase {reference} to be settled")
    return found


def test_a_purchase_is_priced_from_settings_and_starts_pending(api: TestClient, tenant: Tenant) -> None:
    purchase = buy(api, tenant, credits=250, currency="ngn")

    assert purchase["amount"] == 250 * 2000
    assert purchase["currency"] == "NGN"
    assert purchase["status"] == "pending"
    assert purchase["reference"].startswith("TL-")
    shown = api.get(f"/v1/credit-purchases/{purchase['purchase_id']}", headers=tenant.headers).json()
    assert shown["status"] == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [({"credits": 10, "currency": "EUR"}, "currency"), ({"credits": 0, "currency": "NGN"}, "credits")],
)
def test_bad_purchases_are_422_naming_the_field(
    api: TestClient, tenant: Tenant, body: dict[str, Any], field: str
) -> None:
    response = api.post("/v1/credit-purchases", json=body, headers=tenant.headers)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}: ")
    assert response.json()["errors"][0]["field"] == field  # the one 422 shape, an unpriced currency too


def test_another_tenants_purchase_is_404(api: TestClient, tenant: Tenant, other_tenant: Tenant) -> None:
    purchase = buy(api, tenant)

    assert (
        api.get(f"/v1/credit-purchases/{purchase['purchase_id']}", headers=other_tenant.headers).status_code
        == 404
    )


@pytest.mark.usefixtures("payments_worker", "notifications_worker")
def test_a_signed_charge_success_credits_once_and_sends_one_receipt(
    api: TestClient, tenant: Tenant, database: Database, smtp: SmtpServer
) -> None:
    purchase = buy(api, tenant, credits=100)
    body = paystack.charge_success(purchase["reference"], purchase["amount"])

    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))

    assert response.status_code == 200
    assert response.json() == {"status": "queued"}
    settled = wait_paid(database, purchase["reference"])
    assert settled.status == PurchaseStatus.PAID
    assert balance(database, tenant) == Decimal("100.00")
    entries = ledger(database, tenant)
    assert [(e.reference, e.delta, e.kind) for e in entries] == [
        (purchase["reference"], Decimal("100.00"), "purchase")
    ]
    receipt = smtp.wait_for_message_to(tenant.owner_email)
    assert receipt["Subject"] == f"Receipt: 100.00 AI credits ({purchase['reference']})"
    smtp.settle()
    assert len(smtp.messages_to(tenant.owner_email)) == 1
    assert [e.status for e in events_for(database, purchase["reference"])] == [PaymentEventStatus.PROCESSED]
    credits = api.get("/v1/credits", headers=tenant.headers).json()
    assert credits["balance"] == "100.00"
    assert credits["entries"][0]["reference"] == purchase["reference"]
    shown = api.get(f"/v1/credit-purchases/{purchase['purchase_id']}", headers=tenant.headers).json()
    assert shown["status"] == "paid"
    assert shown["paid_at"] is not None


@pytest.mark.usefixtures("payments_worker", "notifications_worker")
def test_the_same_webhook_50_times_at_once_credits_once(
    env: dict[str, str], api: TestClient, tenant: Tenant, database: Database, smtp: SmtpServer
) -> None:
    purchase = buy(api, tenant, credits=40)
    body = paystack.charge_success(purchase["reference"], purchase["amount"], transaction_id=555001)
    server, base_url = start_api_server(env, workers=2)
    try:
        with httpx.Client(base_url=base_url, timeout=30) as client, ThreadPoolExecutor(25) as pool:
            responses = list(
                pool.map(
                    lambda _: client.post(WEBHOOK, content=body, headers=paystack.headers(body)), range(50)
                )
            )
    finally:
        server.stop()

    assert {r.status_code for r in responses} == {200}
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["duplicate"] * 49 + ["queued"]
    wait_paid(database, purchase["reference"])
    smtp.wait_for_message_to(tenant.owner_email)
    smtp.settle(2)
    assert len(events_for(database, purchase["reference"])) == 1
    assert len(ledger(database, tenant)) == 1
    assert balance(database, tenant) == Decimal("40.00")
    assert len(smtp.messages_to(tenant.owner_email)) == 1


def _no_change(database: Database, tenant: Tenant, reference: str) -> None:
    assert balance(database, tenant) == Decimal("0.00")
    assert ledger(database, tenant) == []
    assert purchase_status(database, reference).status in (
        PurchaseStatus.PENDING,
        PurchaseStatus.NEEDS_REVIEW,
    )


@pytest.mark.parametrize(
    ("signature", "detail"),
    [
        (None, "missing X-Paystack-Signature header"),
        ("f" * 128, "X-Paystack-Signature does not match the body"),
        # Non-ASCII text: once a 500 (compare_digest refuses non-ASCII str). Latin-1 is what HTTP carries.
        ("\u00e9" * 128, "X-Paystack-Signature does not match the body"),
        (
            "t=abc,v1=k1:" + "f" * 128,
            "X-Paystack-Signature: expected t=<unix time>,v1=<key id>:<hex signature>",
        ),
        ("t=1700000000", "X-Paystack-Signature: expected t=<unix time>,v1=<key id>:<hex signature>"),
        # Digits past any clock: once an OverflowError (400 digits) or ValueError (5000) from int().
        *(
            (
                "t=" + "9" * digits + ",v1=k1:" + "f" * 128,
                "X-Paystack-Signature: expected t=<unix time>,v1=<key id>:<hex signature>",
            )
            for digits in (400, 5000)
        ),
    ],
)
def test_a_missing_or_wrong_signature_is_401_and_stores_nothing(
    api: TestClient, tenant: Tenant, database: Database, signature: str | None, detail: str
) -> None:
    purchase = buy(api, tenant)
    body = paystack.charge_success(purchase["reference"], purchase["amount"])
    headers = {"Content-Type": "application/json"} | (
        {"X-Paystack-Signature": signature} if signature else {}
    )

    response = api.post(WEBHOOK, content=body, headers={k: v.encode("latin-1") for k, v in headers.items()})

    assert response.status_code == 401
    assert response.json()["detail"] == detail
    assert events_for(database, purchase["reference"]) == []
    _no_change(database, tenant, purchase["reference"])


def test_a_body_signed_with_another_key_is_401(api: TestClient, tenant: Tenant, database: Database) -> None:
    purchase = buy(api, tenant)
    body = paystack.charge_success(purchase["reference"], purchase["amount"])

    response = api.post(
        WEBHOOK, content=body, headers={"X-Paystack-Signature": paystack.sign(body, "sk_live_other")}
    )

    assert response.status_code == 401
    _no_change(database, tenant, purchase["reference"])


def _timestamped(body: bytes, at: float, secret: str = PAYSTACK_SECRET, kid: str = "k1") -> str:
    signed = hmac.new(secret.encode(), f"{int(at)}.".encode() + body, hashlib.sha512).hexdigest()
    return f"t={int(at)},v1={kid}:{signed}"


def test_the_timestamped_signature_is_accepted_while_fresh_and_a_replay_is_refused(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    purchase = buy(api, tenant)
    body = paystack.charge_success(purchase["reference"], purchase["amount"])
    stale = time.time() - 301

    replayed = api.post(WEBHOOK, content=body, headers={"X-Paystack-Signature": _timestamped(body, stale)})
    future = api.post(
        WEBHOOK, content=body, headers={"X-Paystack-Signature": _timestamped(body, time.time() + 400)}
    )
    other_body = api.post(
        WEBHOOK, content=body + b" ", headers={"X-Paystack-Signature": _timestamped(body, time.time())}
    )

    assert replayed.status_code == future.status_code == other_body.status_code == 401
    assert "outside the 300s tolerance" in replayed.json()["detail"]
    assert events_for(database, purchase["reference"]) == []

    fresh = api.post(WEBHOOK, content=body, headers={"X-Paystack-Signature": _timestamped(body, time.time())})
    assert fresh.status_code == 200, fresh.text
    assert fresh.json() == {"status": "queued"}


def test_several_secrets_verify_during_a_key_rotation(
    services: Services, tenant: Tenant, database: Database
) -> None:
    rotating = tasklane_env(services, TASKLANE_PAYSTACK_SECRET_KEY=f"sk_live_new_one, {PAYSTACK_SECRET}")
    with TestClient(create_app(settings_from_env(rotating))) as client:
        old, new = buy(client, tenant), buy(client, tenant)
        old_body = paystack.charge_success(old["reference"], old["amount"])
        new_body = paystack.charge_success(new["reference"], new["amount"])
        neither_body = paystack.charge_success(new["reference"], new["amount"])

        by_old = client.post(WEBHOOK, content=old_body, headers=paystack.headers(old_body))
        by_new = client.post(
            WEBHOOK,
            content=new_body,
            headers={"X-Paystack-Signature": _timestamped(new_body, time.time(), "sk_live_new_one", "k2")},
        )
        by_neither = client.post(
            WEBHOOK,
            content=neither_body,
            headers={"X-Paystack-Signature": paystack.sign(neither_body, "sk_x")},
        )

    assert by_old.json() == by_new.json() == {"status": "queued"}
    assert by_neither.status_code == 401
    assert len(events_for(database, old["reference"])) == len(events_for(database, new["reference"])) == 1


def test_an_oversized_body_is_413_even_when_signed(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    purchase = buy(api, tenant)
    event = json.loads(paystack.charge_success(purchase["reference"], purchase["amount"]))
    event["data"]["metadata"] = {"padding": "x" * 70_000}
    body = json.dumps(event).encode()

    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))
    streamed = api.post(WEBHOOK, content=iter([body[:40_000], body[40_000:]]), headers=paystack.headers(body))

    assert response.status_code == streamed.status_code == 413
    assert response.json()["detail"] == "body: larger than 65536 bytes"
    assert events_for(database, purchase["reference"]) == []
    _no_change(database, tenant, purchase["reference"])


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"event": "charge.success", "data": ', "body: not valid JSON"),
        (b'{"data": {"reference": "TL-X"}}', "event: Field required"),
        (b'{"event": "charge.success", "data": {"amount": 100}}', "data.reference: Field required"),
        (b'{"event": "charge.success", "data": {"reference": "TL-X", "currency": "NGN"}}',
         "data.amount: Field required for charge.success"),
    ],
)  # fmt: skip
def test_signed_but_malformed_events_are_400_with_a_detail(
    api: TestClient, database: Database, body: bytes, detail: str
) -> None:
    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert events_for(database, "TL-X") == []


@pytest.mark.usefixtures("payments_worker")
def test_an_unknown_reference_is_acknowledged_recorded_and_credits_nothing(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    body = paystack.charge_success("TL-NOT-OURS", 500_000)

    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    [event] = events_for(database, "TL-NOT-OURS")
    assert (event.status, event.note) == (
        PaymentEventStatus.IGNORED,
        "no credit purchase has reference TL-NOT-OURS",
    )
    assert balance(database, tenant) == Decimal("0.00")


@pytest.mark.usefixtures("payments_worker")
@pytest.mark.parametrize(("amount_delta", "currency"), [(-1, "NGN"), (0, "USD")])
def test_an_amount_or_currency_mismatch_needs_review_and_credits_nothing(
    api: TestClient, tenant: Tenant, database: Database, amount_delta: int, currency: str
) -> None:
    purchase = buy(api, tenant, credits=10)
    body = paystack.charge_success(purchase["reference"], purchase["amount"] + amount_delta, currency)

    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))

    assert response.json() == {"status": "queued"}
    settled = wait_paid(database, purchase["reference"])
    assert settled.status == PurchaseStatus.NEEDS_REVIEW
    assert settled.review_reason is not None
    assert "expected NGN 200.00; nothing was credited" in settled.review_reason
    _no_change(database, tenant, purchase["reference"])
    shown = api.get(f"/v1/credit-purchases/{purchase['purchase_id']}", headers=tenant.headers).json()
    assert shown["status"] == "needs_review"


def test_an_unknown_event_type_is_acknowledged_and_recorded_not_processed(
    api: TestClient, database: Database
) -> None:
    body = paystack.other_event("transfer.success", "TRF-12")

    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))

    assert response.json() == {"status": "ignored"}
    [event] = events_for(database, "TRF-12")
    assert event.status == PaymentEventStatus.IGNORED
    assert event.note == "transfer.success events are recorded, not processed"
    with database.session() as session:
        assert (
            session.scalar(
                select(func.count()).where(TaskRecord.kwargs["payment_reference"].as_string() == "TRF-12")
            )
            == 0
        )


def test_an_unknown_provider_is_404(api: TestClient) -> None:
    assert api.post("/v1/webhooks/stripe", content=b"{}").status_code == 404
