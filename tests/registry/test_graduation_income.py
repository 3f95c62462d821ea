"""Income that can be verified and belongs to the household (issue 15, items 3 and 4), on
SQLite and PostgreSQL: each visit says where its income figure comes from, with a reference to
the evidence; a provider confirms wages only of residents placed with it; two members of one
family card visited give the household's income once, at the date asked."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.registry.support import Disclosures, WithMatching, employed, register, resident
from tests.support.problems import error_fields
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio

CARD = "6302061204910077"
COMPANY = "org-company-cement"


async def test_two_members_visited_give_the_households_income_once(
    registry_matching: WithMatching, keys: TestKeys
) -> None:
    client, _ = registry_matching
    agency = keys.headers("government_agency")
    mother = await register(client, agency, resident(1, family_card_number=CARD))
    son = await register(
        client, agency, resident(2, born=date(2003, 2, 1), sex="M", family_card_number=CARD)
    )
    visit = {"employment_status": "employed", "household_size": 4}
    first = await client.post(
        f"/v1/residents/{mother['id']}/follow-ups",
        json={**visit, "monthly_income_idr": 3_000_000, "visited_on": "2025-09-10"},
        headers=agency,
    )
    assert first.status_code == 201, first.text
    second = await client.post(
        f"/v1/residents/{son['id']}/follow-ups",
        json={**visit, "monthly_income_idr": 3_200_000, "visited_on": "2025-10-20"},
        headers=agency,
    )
    assert second.status_code == 201, second.text

    household = (await client.get(f"/v1/households/{CARD}", headers=agency)).json()
    assert household["monthly_income_idr"] == 3_200_000  # the son's visit, not 6,200,000
    assert household["household_size"] == 4
    assert household["income_per_member_idr"] == 800_000
    assert household["figures_follow_up_id"] == second.json()["id"]
    before = (
        await client.get(f"/v1/households/{CARD}", params={"on": "2025-09-30"}, headers=agency)
    ).json()
    assert before["monthly_income_idr"] == 3_000_000 and before["figures_as_of"] == "2025-09-10"


async def test_a_visit_states_its_income_source_and_evidence(
    registry_matching: WithMatching, keys: TestKeys
) -> None:
    client, matching = registry_matching
    agency = keys.headers("government_agency")
    rid = (await register(client, agency, resident(1)))["id"]
    url = f"/v1/residents/{rid}/follow-ups"
    visit = employed(2_400_000, 3)
    plain = await client.post(url, json={**visit, "visited_on": "2025-09-01"}, headers=agency)
    assert plain.json()["income_source"] == "self_report"
    assert plain.json()["evidence_ref"] is None
    slip = await client.post(
        url,
        json={
            **visit,
            "visited_on": "2025-09-02",
            "income_source": "payslip",
            "evidence_ref": "sha256:" + "b" * 64,
        },
        headers=agency,
    )
    assert slip.status_code == 201, slip.text
    assert slip.json()["income_source"] == "payslip"
    listed = (await client.get(url, headers=agency)).json()["items"]
    assert [v["income_source"] for v in listed] == ["payslip", "self_report"]

    wrong = await client.post(
        url,
        json={**visit, "visited_on": "2025-09-03", "income_source": "rumour"},
        headers=agency,
    )
    assert wrong.status_code == 422 and error_fields(wrong) == {"income_source"}
    document = await client.post(
        url,
        json={**visit, "visited_on": "2025-09-03", "evidence_ref": "the payslip text\nRp 2.4m"},
        headers=agency,
    )
    assert document.status_code == 422 and error_fields(document) == {"evidence_ref"}

    # A provider confirms wages only of a resident placed with it.
    company = keys.headers("company", org_id=COMPANY)
    confirmed = {
        **visit,
        "visited_on": datetime.now(ZoneInfo("Asia/Makassar")).date().isoformat(),
        "income_source": "employer_confirmed",
    }
    stranger = await client.post(url, json=confirmed, headers=company)
    assert stranger.status_code in (404, 422), stranger.text
    disclosures = Disclosures(matching)
    await disclosures.disclose(client, keys, rid, COMPANY, "cement")
    other = keys.headers("company", org_id="org-company-palm")
    not_its_own = await client.post(
        url, json={**confirmed, "placement_id": disclosures.ids["cement"]}, headers=other
    )
    assert not_its_own.status_code in (404, 422)
    own = await client.post(
        url, json={**confirmed, "placement_id": disclosures.ids["cement"]}, headers=company
    )
    assert own.status_code == 201, own.text
    assert own.json()["income_source"] == "employer_confirmed"
