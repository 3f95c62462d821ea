"""Accept-Language: id answers problems in Bahasa Indonesia: title, detail and each field
error's message, from the one catalogue; type and loc, which clients switch on, unchanged;
English stays the default."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.registry.support import resident
from tests.support.tokens import TestKeys

pytestmark = pytest.mark.anyio
INDONESIAN = {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}


async def _post(
    registry: httpx.AsyncClient, keys: TestKeys, body: dict[str, Any], **headers: str
) -> dict[str, Any]:
    response = await registry.post(
        "/v1/residents", json=body, headers={**keys.headers("government_agency"), **headers}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Accept-Language" in response.headers.get("vary", "")
    problem: dict[str, Any] = response.json()
    return problem


async def test_a_malformed_nik_is_answered_in_indonesian(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    body = resident(1, nik="12345")
    problem = await _post(registry, keys, body, **INDONESIAN)
    assert problem["type"] == "urn:sinergi:problem:request-validation-failed"
    assert problem["title"] == "Kesalahan validasi permintaan."
    assert problem["detail"] == "tidak valid atau tidak ada: body.nik"
    (error,) = problem["errors"]
    assert error["loc"] == ["body", "nik"]
    assert error["msg"] == "harus tepat 16 digit angka"
    english = await _post(registry, keys, body)
    assert english["title"] == "Request validation error."
    assert english["detail"] == "invalid or missing: body.nik"
    assert english["errors"][0]["msg"] == "Value error, must be exactly 16 digits"


async def test_a_nik_that_contradicts_the_birth_date_is_explained_in_indonesian(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    body = resident(1)
    body["sex"] = "M"
    response = await registry.post(
        "/v1/residents", json=body, headers={**keys.headers("government_agency"), **INDONESIAN}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-language"] == "id"
    messages = [problem["detail"], *(e["msg"] for e in problem.get("errors", []))]
    assert any("perempuan" in message for message in messages), messages
    assert body["nik"] not in response.text


async def test_not_found_and_forbidden_speak_indonesian_too(
    registry: httpx.AsyncClient, keys: TestKeys
) -> None:
    missing = await registry.get(
        "/v1/residents/no-such-id", headers={**keys.headers("admin"), **INDONESIAN}
    )
    assert missing.status_code == 404
    assert missing.json()["title"] == "Tidak ditemukan"
    assert missing.json()["detail"] == "penduduk tidak ditemukan"
    unauthenticated = await registry.get("/v1/residents", headers=INDONESIAN)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["title"] == "Belum terautentikasi"
