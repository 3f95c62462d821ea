"""The webhook sender against a real SMS gateway on 127.0.0.1: each message is signed with
HMAC-SHA256 over its body, retried with backoff on 5xx and timeouts, never sent again once the
gateway took it, and its delivery receipt (signed by the gateway) marks it delivered."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from services.registry.notifications.rules import SIGNATURE_HEADER, sign
from tests.registry.notifying import INBOUND_SECRET, PHONE, Wired, notifying
from tests.registry.sms_gateway import SECRET, SmsGateway, sms_gateway
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


@pytest.fixture
def gateway() -> Any:
    with sms_gateway() as state:
        yield state


def webhook(gateway: SmsGateway, **overrides: Any) -> dict[str, Any]:
    return {
        "notify_sender": "webhook",
        "notify_webhook_url": gateway.url,
        "notify_webhook_secret": SECRET,
        "notify_webhook_timeout_seconds": 0.5,
        "notify_backoff_seconds": 0,
        **overrides,
    }


@dataclass
class Offer:
    """A resident offered a placement, the offer's one message queued for the gateway."""

    wired: Wired
    person: dict[str, Any]

    async def send(self) -> int:
        return await self.wired.send()

    async def message(self) -> dict[str, Any]:
        (message,) = await self.wired.notifications(self.person["id"])
        return message


@pytest.fixture
async def offered(
    backend: str, databases: DatabaseFactory, keys: TestKeys, gateway: SmsGateway, request: Any
) -> AsyncIterator[Offer]:
    overrides = getattr(request, "param", {})
    async with notifying(keys, backend, databases, **webhook(gateway, **overrides)) as wired:
        person = await wired.register(1)
        await wired.offer(person["id"])
        await wired.catch_up(1)
        yield Offer(wired, person)


async def test_the_message_is_signed_over_its_exact_body(
    offered: Offer, gateway: SmsGateway
) -> None:
    assert await offered.send() == 1
    (received,) = gateway.received
    assert received.signed
    assert received.signature is not None and received.signature.startswith("sha256=")
    message = await offered.message()
    assert received.body == {"message_id": message["id"], "to": PHONE, "text": message["text"]}
    assert received.idempotency_key == message["id"]
    assert message["status"] == "sent"


async def test_5xx_and_timeouts_are_retried_and_the_message_is_delivered_once(
    offered: Offer, gateway: SmsGateway
) -> None:
    # Refused, too slow, taken with its answer lost, then taken again: one delivery.
    gateway.script.extend([503, "slow", 599, 200])
    for _ in range(4):
        assert await offered.send() == 1
    message = await offered.message()
    assert message["status"] == "sent" and message["attempts"] == 4
    assert len(gateway.received) == 4
    assert {r.body["message_id"] for r in gateway.received} == {message["id"]}
    assert {r.idempotency_key for r in gateway.received} == {message["id"]}
    assert list(gateway.delivered) == [message["id"]]
    # Sent: later passes send nothing more.
    assert await offered.send() == 0
    assert len(gateway.received) == 4


@pytest.mark.parametrize("offered", [{"notify_backoff_seconds": 3600}], indirect=True)
async def test_a_failed_attempt_waits_its_backoff(offered: Offer, gateway: SmsGateway) -> None:
    gateway.script.append(500)
    assert await offered.send() == 1
    assert await offered.send() == 0  # not due for an hour
    message = await offered.message()
    assert message["status"] == "queued" and message["attempts"] == 1
    assert len(gateway.received) == 1


@pytest.mark.parametrize("offered", [{"notify_max_attempts": 2}], indirect=True)
async def test_retries_end_after_the_last_attempt(offered: Offer, gateway: SmsGateway) -> None:
    gateway.script.extend([500, 500])
    assert await offered.send() == 1
    assert await offered.send() == 1
    assert await offered.send() == 0
    assert (await offered.message())["status"] == "failed"
    assert len(gateway.received) == 2


async def test_a_rejected_message_fails_at_once(offered: Offer, gateway: SmsGateway) -> None:
    gateway.script.append(400)
    assert await offered.send() == 1
    assert await offered.send() == 0
    message = await offered.message()
    assert message["status"] == "failed" and message["attempts"] == 1


async def test_a_gateway_down_is_retried(
    backend: str, databases: DatabaseFactory, keys: TestKeys, gateway: SmsGateway
) -> None:
    # A port nobody listens on: connection refused, retried like a 5xx.
    down = webhook(gateway, notify_webhook_url="http://127.0.0.1:9/messages")
    async with notifying(keys, backend, databases, **down) as wired:
        person = await wired.register(1)
        await wired.offer(person["id"])
        await wired.catch_up(1)
        assert await wired.send() == 1
        message = await Offer(wired, person).message()
        assert message["status"] == "queued" and message["attempts"] == 1


async def _receipt(wired: Wired, body: dict[str, Any], secret: str = INBOUND_SECRET) -> int:
    raw = json.dumps(body).encode()
    response = await wired.registry.post(
        "/v1/notifications/receipts",
        content=raw,
        headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, raw)},
    )
    return response.status_code


async def test_a_signed_receipt_marks_the_message_delivered(
    offered: Offer, gateway: SmsGateway
) -> None:
    message_id = (await offered.message())["id"]
    receipt = {"message_id": message_id, "status": "delivered"}
    # Before it was sent, a receipt changes nothing.
    assert await _receipt(offered.wired, receipt) == 204
    assert (await offered.message())["status"] == "queued"
    assert await offered.send() == 1
    assert await _receipt(offered.wired, receipt, secret="not-the-secret") == 401
    assert (await offered.message())["status"] == "sent"
    assert await _receipt(offered.wired, receipt) == 204
    assert await _receipt(offered.wired, receipt) == 204  # repeated: still delivered
    message = await offered.message()
    assert message["status"] == "delivered" and message["delivered_at"] is not None
    assert await _receipt(offered.wired, {"message_id": "unknown", "status": "delivered"}) == 404
    assert await _receipt(offered.wired, {"message_id": message_id, "status": "read"}) == 422
