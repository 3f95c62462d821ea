"""Notifications to residents: matching's placement changes become messages in Bahasa
Indonesia, written in the feed's own transaction, without NIK or family card; a resident's
messages are read by programme organisations and the resident's own village only."""

from __future__ import annotations

import logging

import pytest

from tests.registry.notifying import PHONE, Wired, notifying
from tests.registry.support import KELUMPANG_HILIR, MEGASARI, PULAU_LAUT_UTARA, TARJUN
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage() + " " + repr(record.__dict__))


async def test_an_offer_writes_an_indonesian_message_without_nik_or_family_card(
    wired: Wired,
) -> None:
    person = await wired.register(1)
    await wired.offer(person["id"])
    assert await wired.catch_up(1) >= 1
    (message,) = await wired.notifications(person["id"])
    assert message["template"] == "placement_offered"
    assert message["language"] == "id"
    assert message["status"] == "queued"
    text = message["text"]
    assert "magang" in text and "Balas YA " in text and "TIDAK " in text
    assert person["nik"] not in text and "6302061204910099" not in text
    assert PHONE not in text and person["full_name"] not in text
    assert len(text) <= 160
    # The feed applied again (a restart replaying the batch) writes no second message.
    await wired.app.state.consumers["matching"].catch_up()
    assert len(await wired.notifications(person["id"])) == 1


async def test_each_placement_step_is_told_and_capital_has_its_own_words(
    wired: Wired, keys: TestKeys
) -> None:
    person = await wired.register(1)
    placement = await wired.offer(person["id"], kind="business_capital")
    admin = keys.headers("admin")
    for action in ("accept", "start"):
        response = await wired.matching_client.post(
            f"/v1/placements/{placement}/{action}", headers=admin
        )
        assert response.status_code == 200, response.text
    await wired.catch_up(3)
    templates = [m["template"] for m in await wired.notifications(person["id"])]
    assert sorted(templates) == ["capital_paid", "placement_accepted", "placement_offered"]
    paid = next(
        m for m in await wired.notifications(person["id"]) if m["template"] == "capital_paid"
    )
    assert "modal usaha" in paid["text"] and "dicairkan" in paid["text"]


async def test_a_resident_without_a_phone_gets_a_failed_message_the_village_can_see(
    wired: Wired,
) -> None:
    person = await wired.register(1, phone=None)
    await wired.offer(person["id"])
    await wired.catch_up(1)
    (message,) = await wired.notifications(person["id"])
    assert message["status"] == "failed"
    assert await wired.send() == 0


async def test_only_programme_and_the_residents_village_read_messages_same_404_otherwise(
    wired: Wired, keys: TestKeys
) -> None:
    person = await wired.register(1)
    await wired.offer(person["id"])
    await wired.catch_up(1)
    assert len(await wired.notifications(person["id"], org_type="admin")) == 1
    own = await wired.notifications(person["id"], org_type="village_government", region=TARJUN)
    assert len(own) == 1
    district = await wired.notifications(
        person["id"], org_type="district_government", region=KELUMPANG_HILIR
    )
    assert len(district) == 1

    async def status(resident_id: str, org_type: str, **token: str) -> tuple[int, str]:
        response = await wired.registry.get(
            "/v1/notifications",
            params={"resident_id": resident_id},
            headers=keys.headers(org_type, **token),
        )
        return response.status_code, response.json().get("type", "")

    elsewhere = await status(person["id"], "village_government", region=MEGASARI)
    other_district = await status(person["id"], "district_government", region=PULAU_LAUT_UTARA)
    unknown = await status("no-such-resident", "village_government", region=TARJUN)
    provider = await status(person["id"], "company")
    assert elsewhere == other_district == unknown == (404, "urn:sinergi:problem:not-found")
    assert provider[0] in (403, 404)
    regional = await status(person["id"], "regional_agency")
    assert regional[0] == 403


async def test_the_log_sender_sends_without_the_phone_number(
    backend: str, databases: DatabaseFactory, keys: TestKeys
) -> None:
    captured = Captured()
    logger = logging.getLogger("sinergi.registry.notifications")
    logger.addHandler(captured)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        async with notifying(keys, backend, databases) as wired:
            person = await wired.register(1)
            await wired.offer(person["id"])
            await wired.catch_up(1)
            assert await wired.send() == 1
            assert await wired.send() == 0  # sent once, never again
            (message,) = await wired.notifications(person["id"])
            assert message["status"] == "sent" and message["attempts"] == 1
    finally:
        logger.removeHandler(captured)
        logger.setLevel(previous)
    assert captured.lines, "the log sender wrote nothing"
    joined = "\n".join(captured.lines)
    assert message["id"] in joined
    assert PHONE not in joined and PHONE[3:] not in joined and message["text"] not in joined
