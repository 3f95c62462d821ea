"""No log line of the running stack holds a NIK, a family card number or a phone.

A story through the gateway touches what carries them: households by family card number,
residents by id and by a NIK in the path, a search by NIK, an import with damaged rows, a NIK
conflict on registration. Then every line every service wrote (the seed's and
the other e2e tests' before it, uvicorn's own lines included: stderr goes to the same file)
is scanned.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from deploy.pilot import data
from deploy.pilot.api import OrgClient
from deploy.pilot.demo import Story
from deploy.pilot.seed import upload_import
from tests.e2e.conftest import Pilot
from tests.e2e.stack import SERVICES
from tests.support.people import nik_for

# A NIK or family card number on its own (a UUID's hex groups and request ids are words).
SIXTEEN_DIGITS = re.compile(r"(?<![\w-])\d{16}(?![\w-])")
PHONE = re.compile(r"(?<![\w+-])(?:\+62|62|0)8\d{7,11}(?![\w-])")
# Serials 7000-7999 of Tarjun's district: neither the seed nor the demo story uses them.
SERIAL = 7000


def nik(index: int, sex: str = "M") -> str:
    return nik_for("630217", date(1995, 3, 1 + index), sex, SERIAL + index)


def card(index: int) -> str:
    return f"630217010125{SERIAL + index:04d}"


def phone(index: int) -> str:
    return f"0812555{SERIAL + index:05d}"


def resident(index: int, **overrides: Any) -> dict[str, Any]:
    return {
        "nik": nik(index),
        "family_card_number": card(index),
        "full_name": f"Logtest Warga {index}",
        "sex": "M",
        "birth_date": date(1995, 3, 1 + index).isoformat(),
        "village_code": data.TARJUN,
        "address": "RT 001 RW 001, Desa Tarjun",
        "phone": phone(index),
        "education_level": "senior_secondary",
        "skills": ["data-entry"],
        "employment_status": "unemployed",
        "monthly_income_idr": 0,
        "household_size": 3,
        "welfare_decile": 2,
        "consent": {"given": True, "purpose": data.CONSENT_PURPOSE},
        **overrides,
    }


def import_rows(social: OrgClient) -> dict[str, Any]:
    rows = []
    for index in (10, 11, 12, 13):
        body = resident(index)
        rows.append(
            {
                **{k: body[k] for k in ("nik", "family_card_number", "full_name", "sex")},
                "birth_date": body["birth_date"],
                "village_code": data.TARJUN,
                "address": "",
                "phone": phone(index),
                "education_level": "junior_secondary",
                "skills": "palm-harvesting",
                "employment_status": "informal",
                "monthly_income_idr": "500000",
                "household_size": "4",
                "welfare_decile": "3",
                "disability": "",
                "consent_given": "true",
                "consent_purpose": data.CONSENT_PURPOSE,
                "consent_at": "",
            }
        )
    rows[1]["birth_date"] = "1980-01-01"  # contradicts the NIK
    rows[2]["phone"] = "0812"  # no phone
    rows[3]["nik"] = nik(0)  # registered already
    rows[3]["welfare_decile"] = "12"  # and out of range
    report = upload_import(
        social, "logtest.csv", data.import_file(rows), what="the import", timeout=60
    )
    social.get(f"/v1/residents/imports/{report['id']}/rejections")
    return report


def test_no_service_logs_a_nik_a_family_card_number_or_a_phone(pilot: Pilot) -> None:
    story = Story(pilot.gateway, pilot.credentials, say=lambda _: None)
    village, social = story.village(data.TARJUN), story.social

    first = village.post("/v1/residents", json=resident(0), expect=201)
    second = village.post("/v1/residents", json=resident(1), expect=201)
    # Registering a NIK twice: 409.
    village.request("POST", "/v1/residents", json=resident(0, full_name="Again"), expect=409)
    village.get(f"/v1/residents/{second['id']}")
    village.post(f"/v1/residents/{first['id']}/verify")
    village.get(f"/v1/residents/{first['id']}/history")
    village.get(f"/v1/households/{card(0)}")
    social.get(f"/v1/households/{card(1)}", headers={"X-Purpose": "checking a family card"})
    village.request("GET", f"/v1/households/{card(99)}", expect=404)
    # Values where ids belong, and values in the query.
    village.request("GET", f"/v1/residents/{nik(0)}", expect=(404, 422))
    village.request("GET", f"/v1/residents/{phone(0)}/history", expect=(404, 422))
    village.get("/v1/residents", params={"q": nik(0)[:12], "village_code": data.TARJUN})
    village.get("/v1/residents", params={"q": nik(1)})
    report = import_rows(social)
    assert report["rejected"] >= 3, report

    used = {nik(i) for i in range(14)} | {card(i) for i in range(14)}
    used |= {phone(i) for i in range(14)} | {"+62" + phone(i)[1:] for i in range(14)}
    leaks: list[str] = []
    for service in SERVICES:
        text = pilot.stack.log_file(service).read_text(errors="replace")
        assert text, f"{service} wrote no log"
        for line in text.splitlines():
            if SIXTEEN_DIGITS.search(line) or PHONE.search(line) or any(v in line for v in used):
                leaks.append(f"{service}: {line[:300]}")
    assert not leaks, "\n".join(leaks[:20])
    # The access log did record the story, by route.
    registry = pilot.stack.log_file("registry").read_text()
    assert '"route": "/v1/households/{family_card_number}"' in registry
    assert '"path": "/v1/households/{id}"' in pilot.stack.log_file("gateway").read_text()
