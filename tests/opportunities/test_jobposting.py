"""A schema.org JobPosting JSON-LD document, as a company's HR system or a job board
publishes it, becomes an opportunity of the catalogue."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.opportunities.conftest import TARJUN, Api, error_fields

pytestmark = pytest.mark.anyio

# Shaped like the postings Google for Jobs indexes: HTML description, PropertyValue identifier,
# a salary range per month, a validThrough with an offset.
CEMENT_INTERNSHIP: dict[str, Any] = {
    "@context": "https://schema.org/",
    "@type": "JobPosting",
    "title": "Magang Operator Produksi (Kiln & Raw Mill)",
    "description": (
        "<p>Program magang 6 bulan di <strong>pabrik semen Tarjun</strong>.</p>"
        "<ul><li>Pendampingan operator senior</li><li>Sertifikat K3</li></ul>"
    ),
    "identifier": {
        "@type": "PropertyValue",
        "name": "PT Indocement Tunggal Prakarsa Tbk - Tarjun",
        "value": "MAG-TRJ-2026-014",
    },
    "datePosted": "2026-11-20",
    "validThrough": "2027-01-15T23:59:00+08:00",
    "employmentType": ["INTERN", "FULL_TIME"],
    "hiringOrganization": {
        "@type": "Organization",
        "name": "PT Indocement Tunggal Prakarsa Tbk",
        "sameAs": "https://www.indocement.co.id",
    },
    "jobLocation": {
        "@type": "Place",
        "address": {
            "@type": "PostalAddress",
            "streetAddress": "Jl. Raya Tarjun",
            "addressLocality": "Tarjun",
            "addressRegion": "Kalimantan Selatan",
            "postalCode": "72162",
            "addressCountry": "ID",
        },
    },
    "baseSalary": {
        "@type": "MonetaryAmount",
        "currency": "IDR",
        "value": {
            "@type": "QuantitativeValue",
            "minValue": 2800000,
            "maxValue": 3200000,
            "unitText": "MONTH",
        },
    },
    "totalJobOpenings": 12,
    "occupationalCategory": "8114 Operator mesin produk semen",
    "educationRequirements": {
        "@type": "EducationalOccupationalCredential",
        "credentialCategory": "high school",
    },
    "skills": (
        "Occupational health and safety, Basic numeracy, membaca gambar teknik, Bahasa Mandarin"
    ),
    "jobStartDate": "2027-02-01",
}


async def _post(api: Api, document: dict[str, Any], org: str = "org-indocement") -> Any:
    return await api.client.post(
        "/v1/opportunities/jobposting",
        content=json.dumps(document),
        headers={
            **api.as_("company", org_id=org),
            "Content-Type": "application/ld+json",
        },
    )


async def test_a_cement_plant_internship_posting_becomes_an_opportunity(api: Api) -> None:
    response = await _post(api, CEMENT_INTERNSHIP)
    assert response.status_code == 201, response.text
    result = response.json()
    opportunity = result["opportunity"]
    assert opportunity["external_id"] == "MAG-TRJ-2026-014"
    assert opportunity["provider_org_id"] == "org-indocement"
    assert opportunity["kind"] == "internship"
    assert opportunity["slots"] == 12
    assert opportunity["occupation_code"] == "8114"
    assert opportunity["pay_idr"] == 2_800_000
    assert opportunity["location_village_code"] == TARJUN
    assert opportunity["eligible_area_codes"] == []
    assert opportunity["valid_through"] == "2027-01-15T15:59:00Z"
    assert opportunity["start_date"] == "2027-02-01"
    assert opportunity["min_education"] == "senior_secondary"
    assert opportunity["skills_required"] == [
        "occupational-health-safety",
        "basic-numeracy",
        "technical-drawing-reading",
    ]
    assert opportunity["status"] == "open"
    assert "<" not in opportunity["description"]
    assert "pabrik semen Tarjun" in opportunity["description"]
    # The free-text skill outside the vocabulary is reported, not silently lost.
    assert any("Bahasa Mandarin" in w for w in result["warnings"])

    again = await _post(api, CEMENT_INTERNSHIP)
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert again.json()["opportunity"]["version"] == 1


async def test_a_job_elsewhere_defaults_to_one_opening_and_the_whole_regency(api: Api) -> None:
    posting = copy.deepcopy(CEMENT_INTERNSHIP)
    posting["identifier"] = "SPV-0099"
    posting["employmentType"] = "FULL_TIME"
    posting["jobLocation"]["address"]["addressLocality"] = "Banjarmasin"
    posting["baseSalary"] = {
        "@type": "MonetaryAmount",
        "currency": "IDR",
        "value": {"@type": "QuantitativeValue", "value": 150000, "unitText": "DAY"},
    }
    del posting["totalJobOpenings"]
    response = await _post(api, posting)
    assert response.status_code == 201, response.text
    opportunity = response.json()["opportunity"]
    assert (opportunity["kind"], opportunity["slots"]) == ("job", 1)
    assert opportunity["location_village_code"] is None
    assert opportunity["eligible_area_codes"] == []
    assert opportunity["pay_idr"] == 150000 * 25
    assert any("Banjarmasin" in w and "whole regency" in w for w in response.json()["warnings"])


async def test_a_posting_without_identifier_or_in_dollars_is_422(api: Api) -> None:
    posting = copy.deepcopy(CEMENT_INTERNSHIP)
    del posting["identifier"]
    posting["baseSalary"]["currency"] = "USD"
    response = await _post(api, posting)
    assert response.status_code == 422
    assert error_fields(response) == {"identifier", "baseSalary.currency"}
    posting = copy.deepcopy(CEMENT_INTERNSHIP)
    posting["totalJobOpenings"] = 0
    response = await _post(api, posting)
    assert error_fields(response) == {"totalJobOpenings"}
