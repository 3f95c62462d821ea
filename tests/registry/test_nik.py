"""Every NIK rule of DESIGN.md, each with its own message, through the API on both databases."""

from __future__ import annotations

from datetime import date

import pytest

from services.registry.residents import nik as nik_rules
from tests.registry.support import make_nik, register, registry_client, resident

BORN = date(1991, 4, 12)


@pytest.mark.anyio
async def test_each_nik_rule_is_a_422_naming_nik(keys, backend: str, databases) -> None:  # type: ignore[no-untyped-def]
    woman = make_nik(BORN, "F")  # 6302065204910001
    cases = {
        "15 digits": (woman[:15], "F", BORN, "exactly 16 digits"),
        "letters": (woman[:15] + "X", "F", BORN, "exactly 16 digits"),
        "unknown province": ("99" + woman[2:], "F", BORN, "not a known province"),
        "invalid date": (woman[:6] + "320491" + "0001", "M", BORN, "not a valid birth date"),
        "day over 71": (woman[:6] + "720491" + "0001", "F", BORN, "not a valid birth date"),
        "man with +40": (woman, "M", BORN, "marks a woman"),
        "woman without +40": (make_nik(BORN, "M"), "F", BORN, "must have 40 added"),
        "date mismatch": (woman, "F", date(1991, 4, 13), "does not match birth_date"),
        "serial 0000": (woman[:12] + "0000", "F", BORN, "must not be 0000"),
    }
    headers = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        for name, (nik, sex, born, message) in cases.items():
            body = resident(nik=nik, sex=sex, born=born)
            body["nik"] = nik
            response = await client.post("/v1/residents", json=body, headers=headers)
            assert response.status_code == 422, name
            errors = response.json()["errors"]
            assert [e["loc"][-1] for e in errors] == ["nik"], name
            assert message in errors[0]["msg"], name
        # The district part is never checked: a retired district code (630206 was split in
        # 2021) and a district of another regency are both fine.
        for serial, district in ((1, "630206"), (2, "317101")):
            body = resident(serial, nik=make_nik(BORN, "F", district=district, serial="0009"))
            body["nik"] = make_nik(BORN, "F", district=district, serial=f"{serial:04d}")
            await register(client, headers, body)


def test_rules_accept_a_valid_nik_of_either_century() -> None:
    assert nik_rules.format_problem(make_nik(date(2004, 2, 29), "M")) is None
    assert nik_rules.consistency_problem(make_nik(BORN, "F"), "F", BORN) is None
    assert nik_rules.consistency_problem(make_nik(BORN, "M"), "M", BORN) is None
