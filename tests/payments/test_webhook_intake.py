"""The webhook intake's group commits and its connection to PostgreSQL, against the real API and database.

No payments worker runs here: these tests are about what is stored and answered, not what is credited.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tasklane.db.engine import Database
from tasklane.db.migrate import upgrade
from tasklane.db.models import Business, CreditPurchase, PaymentEvent, PaymentEventStatus
from tasklane_api.main import create_app
from tasklane_api.settings import ApiSettings
from tests.conftest import Tenant
from tests.harness import paystack
from tests.harness.stack import PAYSTACK_SECRET, Services, start_api_server
from tests.payments.test_webhooks import WEBHOOK, buy, events_for


def test_concurrent_deliveries_stored_together_are_each_answered_for_their_own_event(
    env: dict[str, str], api: TestClient, tenant: Tenant, database: Database
) -> None:
    purchases = [buy(api, tenant, credits=5) for _ in range(20)]
    known = [paystack.charge_success(p["reference"], p["amount"], transaction_id=770000 + i)
             for i, p in enumerate(purchases)]  # fmt: skip
    unknown = [paystack.charge_success(f"TL-NOBODY-{i}", 1000, transaction_id=771000 + i) for i in range(10)]
    other = [paystack.other_event("transfer.success", f"TRF-BATCH-{i}") for i in range(5)]
    repeated = [known[0]] * 5  # redeliveries of one event, racing its first delivery
    deliveries = known + unknown + other + repeated
    server, base_url = start_api_server(env, workers=1)  # one process, so the deliveries share batches
    try:
        with (
            httpx.Client(base_url=base_url, timeout=30) as client,
            ThreadPoolExecutor(len(deliveries)) as pool,
        ):
            answers = list(
                pool.map(
                    lambda body: client.post(WEBHOOK, content=body, headers=paystack.headers(body)),
                    deliveries,
                )
            )
    finally:
        server.stop()

    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    by_body: dict[bytes, list[str]] = {}
    for body, answer in zip(deliveries, answers, strict=True):
        by_body.setdefault(body, []).append(answer.json()["status"])
    assert sorted(by_body.pop(known[0])) == ["duplicate"] * 5 + ["queued"]
    assert {body: statuses for body, statuses in by_body.items() if body in known} == {
        body: ["queued"] for body in known[1:]
    }
    assert all(by_body[body] == ["ignored"] for body in unknown + other)

    stored = {e.reference: e for p in purchases for e in events_for(database, p["reference"])}
    assert {ref: e.status for ref, e in stored.items()} == {
        p["reference"]: PaymentEventStatus.RECEIVED for p in purchases
    }
    assert stored[purchases[3]["reference"]].payload == json.loads(known[3])
    assert stored[purchases[3]["reference"]].amount_minor == purchases[3]["amount"]
    for i in range(10):
        [event] = events_for(database, f"TL-NOBODY-{i}")
        assert (event.status, event.note) == (
            PaymentEventStatus.IGNORED,
            f"no credit purchase has reference TL-NOBODY-{i}",
        )
    with database.session() as session:
        batch_times = Counter(
            session.scalars(
                select(PaymentEvent.received_at).where(
                    PaymentEvent.reference.in_(
                        [p["reference"] for p in purchases] + [f"TL-NOBODY-{i}" for i in range(10)]
                    )
                )
            )
        )
        assert (
            session.scalar(select(func.count()).where(PaymentEvent.reference == purchases[0]["reference"]))
            == 1
        )
    # Stored in group commits: some deliveries shared a statement (and so its timestamp).
    assert max(batch_times.values()) > 1


def test_the_intake_answers_503_while_the_database_is_down_and_stores_once_it_is_back(
    api: TestClient, tenant: Tenant, database: Database, services: Services
) -> None:
    before = buy(api, tenant)
    first = paystack.charge_success(before["reference"], before["amount"], transaction_id=772001)
    assert api.post(WEBHOOK, content=first, headers=paystack.headers(first)).json() == {"status": "queued"}
    purchase = buy(api, tenant)
    body = paystack.charge_success(purchase["reference"], purchase["amount"], transaction_id=772002)

    services.postgres.stop(mode="fast")
    try:
        refused = api.post(WEBHOOK, content=body, headers=paystack.headers(body))
    finally:
        services.postgres.start()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"]
    assert "the database is unavailable" in refused.json()["detail"]
    assert "deliver it again" in refused.json()["detail"]
    # The provider's redelivery is stored, on a fresh connection, and only once.
    again = api.post(WEBHOOK, content=body, headers=paystack.headers(body))
    assert again.json() == {"status": "queued"}
    assert [e.status for e in events_for(database, purchase["reference"])] == [PaymentEventStatus.RECEIVED]


def test_a_database_restart_between_deliveries_costs_the_provider_nothing(
    api: TestClient, tenant: Tenant, database: Database, services: Services
) -> None:
    purchases = [buy(api, tenant) for _ in range(2)]
    bodies = [paystack.charge_success(p["reference"], p["amount"], transaction_id=773000 + i)
              for i, p in enumerate(purchases)]  # fmt: skip
    assert api.post(WEBHOOK, content=bodies[0], headers=paystack.headers(bodies[0])).json() == {
        "status": "queued"
    }

    services.postgres.stop(mode="fast")
    services.postgres.start()

    # The intake's kept connection died with the old server; the delivery must not pay for that.
    answer = api.post(WEBHOOK, content=bodies[1], headers=paystack.headers(bodies[1]))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "queued"}
    assert len(events_for(database, purchases[1]["reference"])) == 1


def test_fields_longer_than_their_columns_are_400_naming_the_field(
    api: TestClient, database: Database
) -> None:
    body = paystack.charge_success("TL-" + "X" * 70, 1000, transaction_id=774001)

    response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))

    assert response.status_code == 400
    assert response.json()["detail"].startswith("data.reference: String should have at most 64 characters")
    assert events_for(database, "TL-" + "X" * 70) == []


def test_the_embedded_sqlite_default_stores_webhooks_the_same_way(tmp_path: Path, services: Services) -> None:
    settings = ApiSettings(
        environment="development",
        database_url=f"sqlite:///{tmp_path / 'dev.db'}",
        broker_url=services.redis.url,
        paystack_secret_key=PAYSTACK_SECRET,
    )
    upgrade(settings)
    database = Database(settings)
    business_id = uuid.uuid4()
    with database.transaction() as session:
        session.add(Business(id=business_id, name="Dev", owner_email="dev@dev.test"))
        session.flush()
        session.add(CreditPurchase(business_id=business_id, reference="TL-DEV-1", provider="paystack",
                                   credits=Decimal(5), amount_minor=10000, currency="NGN"))  # fmt: skip
    paid = paystack.charge_success("TL-DEV-1", 10000, transaction_id=775001)
    unknown = paystack.charge_success("TL-DEV-NOBODY", 10000, transaction_id=775002)

    with TestClient(create_app(settings)) as client:
        answers = [
            client.post(WEBHOOK, content=b, headers=paystack.headers(b)).json() for b in (paid, unknown, paid)
        ]

    assert answers == [{"status": "queued"}, {"status": "ignored"}, {"status": "duplicate"}]
    assert [(e.status, e.payload) for e in events_for(database, "TL-DEV-1")] == [
        (PaymentEventStatus.RECEIVED, json.loads(paid))
    ]
    [ignored] = events_for(database, "TL-DEV-NOBODY")
    assert ignored.note == "no credit purchase has reference TL-DEV-NOBODY"
    database.engine.dispose()
