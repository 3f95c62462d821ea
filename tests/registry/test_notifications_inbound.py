"""The resident's own reply (POST /v1/notifications/inbound, from the SMS gateway): signed
with HMAC-SHA256, replays ignored; ``YA <code>``/``TIDAK <code>`` from the number the offer went
to answers it as the resident's own decision, from any other number does nothing; ``ADUAN``
opens a complaint the village sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from services.gateway.main import create_app as create_gateway
from services.registry.notifications.rules import SIGNATURE_HEADER, sign
from tests.gateway.support import gateway_settings
from tests.registry.notifying import INBOUND_SECRET, Wired
from tests.support.databases import DatabaseFactory
from tests.support.places import MEGASARI, TARJUN
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio
OTHER_PHONE = "+6281299990000"


async def _offer_code(wired: Wired, person: dict[str, Any]) -> tuple[str, str]:
    placement = await wired.offer(person["id"])
    await wired.catch_up(1)
    (message,) = await wired.notifications(person["id"])
    code = message["text"].split("Balas YA ")[1].split()[0]
    return placement, code


async def test_ya_from_the_offers_number_accepts_as_the_resident(wired: Wired) -> None:
    person = await wired.register(1)
    placement, code = await _offer_code(wired, person)

    # Another number with the right code: nothing happens, and it learns nothing.
    other = await wired.inbound(f"YA {code}", sender=OTHER_PHONE)
    assert other.status_code == 200, other.text
    assert other.json()["outcome"] == "no_offer"
    assert "tidak ada tawaran" in other.json()["reply"]
    assert (await wired.placement(placement))["status"] == "offered"

    answer = await wired.inbound(f"ya {code.lower()}", sender="0812-3456-7801")
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "accepted"
    held = await wired.placement(placement)
    assert held["status"] == "accepted" and held["decided_by"] == "resident"
    assert held["history"][-1]["decided_by"] == "resident"
    # The acceptance comes back over the feed as a confirmation to the resident.
    await wired.catch_up(1)
    templates = {m["template"] for m in await wired.notifications(person["id"])}
    assert "placement_accepted" in templates


async def test_tidak_declines_and_a_proxy_acceptance_stays_a_proxys(
    wired: Wired, keys: TestKeys
) -> None:
    first = await wired.register(1)
    placement, code = await _offer_code(wired, first)
    answer = await wired.inbound(f"TIDAK {code}")
    assert answer.json()["outcome"] == "declined"
    held = await wired.placement(placement)
    assert held["status"] == "declined" and held["decided_by"] == "resident"
    # Answering again: the offer is closed.
    again = await wired.inbound(f"YA {code}")
    assert again.json()["outcome"] == "closed" and "sudah tidak dapat" in again.json()["reply"]

    second = await wired.register(2, phone="081234567802")
    proxy = await wired.offer(second["id"])
    village = keys.headers("village_government", region=TARJUN)
    response = await wired.matching_client.post(f"/v1/placements/{proxy}/accept", headers=village)
    assert response.status_code == 200, response.text
    assert response.json()["decided_by"] == "proxy"


async def test_a_bad_or_missing_signature_is_401_and_a_replay_is_ignored(
    wired: Wired, keys: TestKeys
) -> None:
    person = await wired.register(1)
    bad = await wired.inbound("ADUAN jalan rusak", secret="wrong-secret")
    assert bad.status_code == 401 and bad.json()["type"] == "urn:sinergi:problem:unauthorized"
    missing = await wired.registry.post(
        "/v1/notifications/inbound",
        json={"from": "+6281234567801", "text": "ADUAN x", "message_id": "m-1"},
    )
    assert missing.status_code == 401

    first = await wired.inbound("ADUAN bantuan belum cair", message_id="sms-1")
    assert first.status_code == 200 and first.json()["outcome"] == "complaint"
    replay = await wired.inbound("ADUAN bantuan belum cair", message_id="sms-1")
    assert replay.status_code == 200 and replay.json()["outcome"] == "replay"
    listed = await wired.registry.get("/v1/grievances", headers=keys.headers("admin"))
    assert len(listed.json()["items"]) == 1
    unknown = await wired.inbound("halo apa kabar")
    assert unknown.json()["outcome"] == "unknown"
    assert unknown.json()["reply"].startswith("Sinergi: maaf")
    assert person["nik"] not in unknown.text


async def test_an_unset_inbound_secret_refuses_everything(wired: Wired) -> None:
    wired.app.state.settings.notify_inbound_secret = ""
    response = await wired.inbound("ADUAN x", secret="")
    assert response.status_code == 401


async def test_aduan_opens_a_complaint_the_village_sees(wired: Wired, keys: TestKeys) -> None:
    person = await wired.register(1)
    answer = await wired.inbound("ADUAN: nama saya tidak ada di daftar magang")
    assert answer.json()["outcome"] == "complaint"
    own = await wired.registry.get(
        "/v1/grievances", headers=keys.headers("village_government", region=TARJUN)
    )
    (grievance,) = own.json()["items"]
    assert grievance["village_code"] == TARJUN
    assert grievance["opened_by_type"] == "resident"
    assert grievance["status"] == "open"
    assert grievance["description"] == "nama saya tidak ada di daftar magang"
    elsewhere = await wired.registry.get(
        "/v1/grievances", headers=keys.headers("village_government", region=MEGASARI)
    )
    assert elsewhere.json()["items"] == []
    provider = await wired.registry.get("/v1/grievances", headers=keys.headers("company"))
    assert provider.json()["items"] == []
    # The resident is told the complaint's number, and of each change of its status.
    opened = [
        m for m in await wired.notifications(person["id"]) if m["template"] == "grievance_opened"
    ]
    assert len(opened) == 1 and grievance["code"] in opened[0]["text"]
    village = keys.headers("village_government", region=TARJUN)
    moved = await wired.registry.patch(
        f"/v1/grievances/{grievance['id']}", json={"status": "in_progress"}, headers=village
    )
    assert moved.status_code == 200, moved.text
    updated = [
        m for m in await wired.notifications(person["id"]) if m["template"] == "grievance_updated"
    ]
    assert len(updated) == 1 and "sedang ditangani" in updated[0]["text"]
    detail = await wired.registry.get(f"/v1/grievances/{grievance['id']}", headers=village)
    assert [h["to_status"] for h in detail.json()["history"]] == ["open", "in_progress"]


async def test_aduan_from_an_unknown_number_opens_nothing(wired: Wired, keys: TestKeys) -> None:
    await wired.register(1)
    answer = await wired.inbound("ADUAN tolong", sender=OTHER_PHONE)
    assert answer.json()["outcome"] == "not_registered"
    listed = await wired.registry.get("/v1/grievances", headers=keys.headers("admin"))
    assert listed.json()["items"] == []


async def test_the_gateway_forwards_the_signed_path_without_a_token(
    wired: Wired, backend: str, databases: DatabaseFactory, keys: TestKeys, tmp_path: Path
) -> None:
    await wired.register(1)
    signing_key = tmp_path / "signing.pem"
    signing_key.write_text(keys.private_pem)
    gateway = create_gateway(
        gateway_settings(
            databases.new(backend, "gateway"),
            tmp_path / "var",
            signing_key_file=str(signing_key),
        ),
        transports={"registry": httpx.ASGITransport(app=wired.app)},
        configure_logs=False,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway), base_url="http://gateway"
    ) as client:
        raw = json.dumps(
            {"from": "+6281234567801", "text": "ADUAN lewat gateway", "message_id": "g-1"}
        ).encode()
        headers = {"Content-Type": "application/json"}
        signed = await client.post(
            "/v1/notifications/inbound",
            content=raw,
            headers={**headers, SIGNATURE_HEADER: sign(INBOUND_SECRET, raw)},
        )
        assert signed.status_code == 200, signed.text
        assert signed.json()["outcome"] == "complaint"
        unsigned = await client.post("/v1/notifications/inbound", content=raw, headers=headers)
        assert unsigned.status_code == 401
        # Every other path of the registry still needs a bearer token at the gateway.
        listed = await client.get("/v1/grievances", headers={"Accept-Language": "id"})
        assert listed.status_code == 401
        # The gateway's own problems speak the caller's language too.
        assert listed.json()["title"] == "Belum terautentikasi"
        assert listed.json()["detail"] == "token bearer diperlukan"
        assert listed.headers["content-language"] == "id"
        read = await client.get("/v1/notifications", params={"resident_id": "x"})
        assert read.status_code == 401


async def test_erasure_reaches_messages_and_complaints(wired: Wired, keys: TestKeys) -> None:
    person = await wired.register(1)
    await _offer_code(wired, person)
    complaint = "ADUAN Siti dari Tarjun belum dihubungi"
    assert (await wired.inbound(complaint)).json()["outcome"] == "complaint"
    erased = await wired.registry.post(
        f"/v1/residents/{person['id']}/erase", headers=keys.headers("admin")
    )
    assert erased.status_code == 200, erased.text
    messages = await wired.notifications(person["id"])
    assert messages and {m["status"] for m in messages} == {"failed"}
    assert await wired.send() == 0
    with wired.app.state.db.session() as session:
        rows = session.execute(
            text("SELECT to_phone, reply_code FROM notification WHERE resident_id = :r"),
            {"r": person["id"]},
        ).all()
        assert rows and all(row == (None, None) for row in rows)
        texts = session.execute(text("SELECT description FROM grievance")).scalars().all()
    assert texts == [""]
    # The offer's code answers nothing now.
    unknown = await wired.inbound("ADUAN lagi")
    assert unknown.json()["outcome"] == "not_registered"


async def test_only_the_registrys_client_relays_a_residents_decision_for_that_resident(
    wired: Wired, keys: TestKeys
) -> None:
    person = await wired.register(1)
    placement = await wired.offer(person["id"])
    url = f"/v1/placements/{placement}/resident-decision"
    decision = {"resident_id": person["id"], "decision": "accept"}
    for org_type, region in (("admin", None), ("village_government", TARJUN)):
        refused = await wired.matching_client.post(
            url, json=decision, headers=keys.headers(org_type, region=region)
        )
        assert refused.status_code == 403, refused.text
    registry_service = keys.headers("service", org_id="org-registry-service")
    other = {"resident_id": "00000000-0000-4000-8000-000000000001", "decision": "accept"}
    wrong = await wired.matching_client.post(url, json=other, headers=registry_service)
    assert wrong.status_code == 404
    assert (await wired.placement(placement))["status"] == "offered"
    done = await wired.matching_client.post(url, json=decision, headers=registry_service)
    assert done.status_code == 200 and done.json()["decided_by"] == "resident"
