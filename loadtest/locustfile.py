"""Tasklane's API consumers, as the seeds describe them, for locust.

Each simulated consumer works for one tenant (a business and its API key) and, weighted: registers users
(each a welcome email), requests reports, triggers low-stock alerts, spends credits with an
`Idempotency-Key` (sometimes retrying the same key), buys credits and delivers the provider's signed
webhook for them (sometimes twice), and schedules reminders. Every task it is handed is followed to its end
state, and locust reports the time from accepted to completed per task type as entries of type `task` (for
a reminder, from when it was due; for a payment, from the webhook's answer to the purchase being paid).

What each consumer caused is written, one JSON object per line, to the *ledger* (`LOADTEST_LEDGER`: a
file, or `-` for stdout with a `LOADTEST-LEDGER ` prefix, as in a cluster): the tasks it was handed, the
emails that must arrive exactly once, the credits bought and spent per tenant, and locust's own figures.
`loadtest.summary` checks the ledger against the running system. Settings (environment):
- `LOADTEST_TENANTS`: a JSON file of `[{"email": ..., "key": ...}]`, made by the run's set-up with the CLI;
- `LOADTEST_PAYSTACK_SECRET`: the key webhooks are signed with (the installation's Paystack secret key).

Only locust and the standard library: the same file runs in locust's own image in a cluster.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from locust import FastHttpUser, between, events, task
from locust.env import Environment

FINISHED = {"completed", "failed", "cancelled"}
FOLLOW_TIMEOUT = 180.0  # seconds a consumer follows one task before counting it as not finished
LEDGER_PREFIX = "LOADTEST-LEDGER "

TENANTS: list[dict[str, str]] = json.loads(open(os.environ["LOADTEST_TENANTS"]).read())  # noqa: SIM115
SECRET = os.environ["LOADTEST_PAYSTACK_SECRET"].split(",")[0].strip().encode()
_next_tenant = itertools.count()
_ledger: list[dict[str, Any]] = []


def _note(kind: str, **fields: Any) -> None:
    _ledger.append({"kind": kind, **fields})


def _timestamp(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


class ApiConsumer(FastHttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.tenant_index = next(_next_tenant) % len(TENANTS)
        tenant = TENANTS[self.tenant_index]
        self.headers = {"Authorization": f"Bearer {tenant['key']}"}
        self.bought = 0
        self.spent = 0

    def on_stop(self) -> None:
        _note("credits", tenant=self.tenant_index, bought=self.bought, spent=self.spent)

    # --- following work to its end -------------------------------------------------------------------

    def _report(self, name: str, started: float, error: str | None, *, kind: str = "task") -> None:
        """A locust entry for one task type: the time from accepted to its end state."""
        events.request.fire(
            request_type=kind,
            name=name,
            response_time=max(0.0, (time.time() - started) * 1000),
            response_length=0,
            exception=RuntimeError(error) if error else None,
            context={},
        )

    def follow(
        self, task_id: str, accepted_at: float, *, since: float | None = None
    ) -> dict[str, Any] | None:
        """Long-poll the task until it ends; note it in the ledger and report its latency: from the record's
        creation (its acceptance) to its end, or from ``since`` (a reminder's due time)."""
        deadline = time.time() + FOLLOW_TIMEOUT
        record: dict[str, Any] | None = None
        while time.time() < deadline:
            with self.client.get(
                f"/v1/tasks/{task_id}?wait=20",
                headers=self.headers,
                name="/v1/tasks/[id]?wait",
                catch_response=True,
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}: {response.text[:200]}")
                    time.sleep(1)
                    continue
                record = response.json()
            if record["status"] in FINISHED:
                break
        if record is None:
            return None
        finished = record["status"] in FINISHED
        _note("task", id=task_id, tenant=self.tenant_index, name=record["name"], status=record["status"])
        if finished:
            # The record's own times: accepted (created) to finished, by the installation's clock.
            created, ended = since or _timestamp(record["created_at"]), _timestamp(record["finished_at"])
            started = time.time() - ((ended or time.time()) - (created or accepted_at))
            error = None if record["status"] == "completed" else f"{record['status']}: {record['error']}"
            self._report(record["name"], started, error)
        else:
            self._report(record["name"], accepted_at, f"not finished after {FOLLOW_TIMEOUT:.0f} s")
        return record

    def accepted(self, path: str, body: dict[str, Any], *, expect: int = 202, name: str | None = None) -> Any:
        with self.client.post(
            path, json=body, headers=self.headers, name=name or path, catch_response=True
        ) as response:
            if response.status_code != expect:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json()

    # --- what consumers do ---------------------------------------------------------------------------

    @task(3)
    def register_user(self) -> None:
        email = f"user-{uuid.uuid4().hex}@loadtest.example.com"
        created = self.accepted("/v1/users", {"email": email, "name": "Load Tester"}, expect=201)
        if created:
            _note("email", to=email, subject="Welcome to")
            self.follow(created["welcome_email_task_id"], time.time())

    @task(2)
    def request_report(self) -> None:
        end = date.today()
        body = {"start_date": str(end - timedelta(days=30)), "end_date": str(end), "format": "csv"}
        accepted = self.accepted("/v1/reports/sales", body)
        if accepted:
            self.follow(accepted["task_id"], time.time())

    @task(1)
    def trigger_low_stock_alert(self) -> None:
        accepted = self.accepted("/v1/alerts/low-stock", {})
        if accepted:
            self.follow(accepted["task_id"], time.time())

    @task(3)
    def spend_credits(self) -> None:
        key = str(uuid.uuid4())
        headers = {**self.headers, "Idempotency-Key": key}
        body = {"amount": "1", "description": "load test"}
        # A client that lost the answer retries with the same key: the spend happens once.
        for attempt in range(2 if random.random() < 0.2 else 1):
            with self.client.post(
                "/v1/credits/usage", json=body, headers=headers, name="/v1/credits/usage", catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code}: {response.text[:200]}")
                    return
                if attempt == 0:
                    self.spent += 1
                if response.json()["replayed"] != (attempt > 0):
                    response.failure(f"attempt {attempt + 1} answered replayed={response.json()['replayed']}")

    @task(2)
    def buy_credits(self) -> None:
        credits = 5
        purchase = self.accepted("/v1/credit-purchases", {"credits": credits, "currency": "NGN"}, expect=201)
        if not purchase:
            return
        body = json.dumps(
            {
                "event": "charge.success",
                "data": {
                    "id": random.randint(10**9, 10**12),
                    "reference": purchase["reference"],
                    "amount": purchase["amount"],
                    "currency": purchase["currency"],
                    "status": "success",
                },
            }
        ).encode()
        signature = hmac.new(SECRET, body, hashlib.sha512).hexdigest()
        headers = {"Content-Type": "application/json", "X-Paystack-Signature": signature}
        delivered_at = time.time()
        # Providers deliver again when unsure: the second delivery must be a harmless duplicate.
        for delivery in range(2 if random.random() < 0.25 else 1):
            expected = "queued" if delivery == 0 else "duplicate"
            with self.client.post(
                "/v1/webhooks/paystack", data=body, headers=headers, catch_response=True
            ) as response:
                if response.status_code != 200 or response.json()["status"] != expected:
                    response.failure(f"{response.status_code}: {response.text[:200]} (expected {expected})")
                    return
            if delivery == 0:  # stored: it will be credited, and its receipt sent, once
                self.bought += credits
                _note("email", to=TENANTS[self.tenant_index]["email"], subject=f"({purchase['reference']})")
        # Credited once the payments worker has processed the event.
        deadline = time.time() + FOLLOW_TIMEOUT
        status = "pending"
        while time.time() < deadline:
            with self.client.get(
                f"/v1/credit-purchases/{purchase['purchase_id']}",
                headers=self.headers,
                name="/v1/credit-purchases/[id]",
                catch_response=True,
            ) as response:
                status = response.json()["status"] if response.status_code == 200 else "error"
            if status != "pending":
                break
            time.sleep(0.25)
        error = None if status == "paid" else f"purchase {status}"
        self._report("payments.process_payment_webhook", delivered_at, error)

    @task(1)
    def schedule_reminder(self) -> None:
        recipient = f"reminder-{uuid.uuid4().hex}@loadtest.example.com"
        remind_at = datetime.now(UTC)
        reminder = self.accepted(
            "/v1/reminders",
            {"message": "Count the till", "remind_at": remind_at.isoformat(), "recipients": [recipient]},
            expect=201,
        )
        if not reminder:
            return
        _note("email", to=recipient, subject="Reminder: ")
        deadline = time.time() + FOLLOW_TIMEOUT
        while time.time() < deadline:
            with self.client.get(
                f"/v1/reminders/{reminder['id']}",
                headers=self.headers,
                name="/v1/reminders/[id]",
                catch_response=True,
            ) as response:
                task_id = response.json().get("task_id") if response.status_code == 200 else None
            if task_id:  # its latency counts from when it was due
                self.follow(task_id, remind_at.timestamp(), since=remind_at.timestamp())
                return
            time.sleep(1)
        self._report("notifications.send_reminder", remind_at.timestamp(), "never dispatched")

    @task(2)
    def read_balance(self) -> None:
        self.client.get("/v1/credits", headers=self.headers)


@events.quitting.add_listener
def write_ledger(environment: Environment, **_: Any) -> None:
    """Write the ledger and locust's figures (per endpoint and per task type) for `loadtest.summary`."""
    stats = environment.stats
    for entry in stats.entries.values():
        _note(
            "stat",
            type=entry.method,
            name=entry.name,
            requests=entry.num_requests,
            failures=entry.num_failures,
            rps=entry.total_rps,
            p50=entry.get_response_time_percentile(0.5),
            p95=entry.get_response_time_percentile(0.95),
            p99=entry.get_response_time_percentile(0.99),
        )
    total = stats.total
    ran = max(0.0, (total.last_request_timestamp or total.start_time) - total.start_time)
    _note("run", requests=total.num_requests, failures=total.num_failures, rps=total.total_rps, seconds=ran)
    target = os.environ.get("LOADTEST_LEDGER", "-")
    lines = [json.dumps(entry) for entry in _ledger]
    if target == "-":
        for line in lines:
            sys.stdout.write(LEDGER_PREFIX + line + "\n")
        sys.stdout.flush()
    else:
        with open(target, "w") as file:
            file.write("\n".join(lines) + "\n")
