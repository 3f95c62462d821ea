"""Item 12 of issue 13: an edit that races another one to a NIK is 409, never 500."""

from __future__ import annotations

import pytest

from services.registry.residents import service
from tests.registry.support import register, registry_client, resident
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys


@pytest.mark.anyio
async def test_racing_edit_to_a_taken_nik_is_409_from_the_constraint(
    keys: TestKeys, backend: str, databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    agency = keys.headers("government_agency")
    async with registry_client(databases.new(backend, "registry"), keys) as client:
        a = await register(client, agency, resident(1))
        b = await register(client, agency, resident(2))
        # The pre-check sees nothing, as when the other edit commits between check and write:
        # only the unique constraint stands between the two residents.
        monkeypatch.setattr(service, "existing_id_by_nik", lambda _session, _nik: None)
        raced = await client.patch(
            f"/v1/residents/{b['id']}",
            json={"nik": a["nik"]},
            headers={**agency, "If-Match": '"1"'},
        )
        assert raced.status_code == 409, raced.text
        assert raced.headers["content-type"] == "application/problem+json"
        assert raced.json()["existing_resident_id"] == a["id"]
        monkeypatch.undo()
        # Nothing of the failed edit was written.
        again = await client.get(f"/v1/residents/{b['id']}", headers=agency)
        assert again.json()["nik"] == b["nik"] and again.json()["version"] == 1
