"""What a client may send, through the gateway to the real services:

- mass assignment: every write schema of the merged OpenAPI forbids fields it does not declare,
  declares none the server owns, and a request that tries to set one (status, version, owner,
  timestamps) is refused with 422 naming the field, writing nothing;
- bodies over the limit get 413, also when streamed without a length; imports have their own,
  larger limit;
- an XLSX whose uncompressed size or declared row count is out of bounds is refused at upload,
  before openpyxl parses any of it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import openpyxl
import pytest

from services.registry.imports import parsing
from services.registry.main import create_app as create_registry
from services.registry.settings import RegistrySettings
from tests.faults.residents import resident_body
from tests.security.stack import Stack
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys

# Fields only the server sets. A write schema declaring one lets a client forge it.
SERVER_OWNED = {
    "id",
    "version",
    "created_at",
    "updated_at",
    "registered_at",
    "verified_at",
    "independent_at",
    "erased_at",
    "source_org_id",
    "provider_org_id",
    "provider_org_type",
    "recorded_by",
    "merged_into",
    "priority_rank",
    "in_target_group",
    "productive_age",
}
# Bodies in someone else's vocabulary, where unknown properties are normal and ignored.
OPEN_VOCABULARY = {
    # A schema.org JobPosting from an HR system: we read the properties we map, and no
    # property of it can set an owner, a status or a version.
    ("/v1/opportunities/jobposting", "post"),
}
# Declared on purpose, with the reason.
DECLARED_ON_PURPOSE = {
    # The disclosure names the provider it is for; only internal services may post it.
    ("/v1/residents/{resident_id}/disclosures", "post"): {"org_id"},
}


@pytest.fixture
def stack(shared_stack: Stack) -> Stack:
    return shared_stack


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


def _objects(
    document: dict[str, Any], schema: dict[str, Any], seen: set[int]
) -> Iterator[dict[str, Any]]:
    schema = _resolve(document, schema)
    if id(schema) in seen:
        return
    seen.add(id(schema))
    if schema.get("type") == "object" or "properties" in schema:
        yield schema
        for sub in schema.get("properties", {}).values():
            yield from _objects(document, sub, seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _objects(document, sub, seen)
    if "items" in schema:
        yield from _objects(document, schema["items"], seen)


def test_every_write_schema_forbids_unknown_and_server_owned_fields(stack: Stack) -> None:
    document = stack.call("GET", "/openapi.json").json()
    problems = []
    writes = 0
    for path, item in document["paths"].items():
        for method in ("post", "put", "patch"):
            operation = item.get(method)
            content = (operation or {}).get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            writes += 1
            allowed = DECLARED_ON_PURPOSE.get((path, method), set())
            for schema in _objects(document, content["application/json"]["schema"], set()):
                title = schema.get("title", "?")
                if "properties" not in schema:
                    continue  # a map (weights by feature, batch items checked one by one)
                if (path, method) in OPEN_VOCABULARY:
                    continue
                if schema.get("additionalProperties") is not False:
                    problems.append(f"{method.upper()} {path}: {title} accepts unknown fields")
                forged = (set(schema.get("properties", {})) & SERVER_OWNED) - allowed
                if forged:
                    problems.append(f"{method.upper()} {path}: {title} declares {sorted(forged)}")
    assert writes >= 10
    assert not problems, "\n".join(problems)


FORGED: list[tuple[str, Any, str]] = [
    ("status", "verified", "registration cannot verify"),
    ("version", 99, "the version is the server's"),
    ("source_org_id", "00000000-0000-4000-8000-000000000009", "the owner is the caller"),
    ("priority_rank", 1, "priority has its own endpoint and scope"),
    ("verified_at", "2025-07-03T09:00:00Z", "a timestamp of the server"),
]


@pytest.mark.parametrize(("field", "value", "why"), FORGED, ids=[f[0] for f in FORGED])
def test_forged_resident_fields_are_refused(stack: Stack, field: str, value: Any, why: str) -> None:
    before = stack.call("GET", "/v1/residents", "admin", params={"limit": 500}).json()
    body = resident_body(500) | {field: value}
    response = stack.call("POST", "/v1/residents", "village", json=body)
    assert response.status_code == 422, why
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(error["loc"][-1] == field for error in response.json()["errors"]), response.text
    after = stack.call("GET", "/v1/residents", "admin", params={"limit": 500}).json()
    assert len(after["items"]) == len(before["items"])


def test_forged_opportunity_owner_is_refused(stack: Stack) -> None:
    body = {
        "kind": "internship",
        "title": "Magang gudang",
        "location_village_code": "63.02.17.2002",
        "slots": 1,
        "provider_org_id": stack.org_ids["other_company"],
    }
    response = stack.call("POST", "/v1/opportunities", "company", json=body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][-1] == "provider_org_id" for e in response.json()["errors"])


def test_forged_placement_status_is_refused(stack: Stack) -> None:
    body = {
        "resident_id": stack.residents[1]["id"],
        "opportunity_id": stack.opportunity_id,
        "status": "started",
    }
    response = stack.call("POST", "/v1/placements", "agency", json=body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][-1] == "status" for e in response.json()["errors"])


def test_oversized_body_gets_413_through_the_gateway(stack: Stack) -> None:
    body = resident_body(501) | {"address": "x" * (2 * 1024 * 1024)}
    response = stack.call("POST", "/v1/residents", "agency", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 413


def test_oversized_body_to_the_gateway_itself_gets_413(stack: Stack) -> None:
    body = {"name": "x" * (2 * 1024 * 1024), "type": "ngo"}
    response = stack.call("POST", "/v1/organisations", "admin", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


# --- directly against the registry, with small limits so the files stay small -------------

MAX_BODY = 64 * 1024
MAX_IMPORT = 256 * 1024
MAX_ROWS = 100


@pytest.fixture
def registry(
    backend: str, databases: DatabaseFactory, keys: TestKeys
) -> Iterator[httpx.AsyncClient]:
    settings = RegistrySettings(
        database_url=databases.new(backend, "registry"),
        jwks_url="",
        max_body_bytes=MAX_BODY,
        import_max_bytes=MAX_IMPORT,
        import_max_rows=MAX_ROWS,
        import_max_xlsx_uncompressed_bytes=MAX_IMPORT * 4,
    )
    app = create_registry(settings, verifier=keys.verifier())
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://registry",
        headers=keys.headers("government_agency"),
    )
    yield client
    app.state.db.dispose()


def _csv(rows: int, pad: int = 0) -> bytes:
    header = "nik,full_name,sex,birth_date,village_code,address\n"
    line = "3171010101900001,Warga Uji,M,1990-01-01,63.02.17.2002,{}\n".format("x" * pad)
    return (header + line * rows).encode()


@pytest.mark.anyio
async def test_streamed_body_over_limit_gets_413(registry: httpx.AsyncClient) -> None:
    async def chunks() -> Any:
        for _ in range(4):
            yield b" " * (MAX_BODY // 2)

    # No Content-Length: the limit is counted on the bytes as they arrive.
    response = await registry.post(
        "/v1/residents", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.anyio
async def test_import_has_its_own_limit(registry: httpx.AsyncClient) -> None:
    within = _csv(rows=MAX_ROWS, pad=1000)  # larger than any other body may be
    assert MAX_BODY < len(within) < MAX_IMPORT
    accepted = await registry.post(
        "/v1/residents/import",
        params={"dry_run": "true"},
        files={"file": ("warga.csv", within, "text/csv")},
    )
    assert accepted.status_code == 202, accepted.text
    too_large = _csv(rows=MAX_ROWS, pad=3000)
    assert len(too_large) > MAX_IMPORT
    refused = await registry.post(
        "/v1/residents/import", files={"file": ("warga.csv", too_large, "text/csv")}
    )
    assert refused.status_code == 413


def _xlsx_bomb() -> bytes:
    """A valid-looking XLSX whose sheet expands from a few KiB to 4 MiB of XML."""
    book = openpyxl.Workbook()
    book.active.append(["nik", "full_name"])
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(plain) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</worksheet>", b" " * (4 * 1024 * 1024) + b"</worksheet>")
            bomb.writestr(member.filename, data)
    return out.getvalue()


def _xlsx_declaring_rows(rows: int) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["nik", "full_name"])
    sheet.cell(row=rows + 1, column=1, value="3171010101900001")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def parsed_workbooks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every time openpyxl is asked to read a workbook (a spy, not a stand-in)."""
    calls: list[str] = []
    real = openpyxl.load_workbook

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("load_workbook")
        return real(*args, **kwargs)

    monkeypatch.setattr(openpyxl, "load_workbook", spy)
    monkeypatch.setattr(parsing, "load_workbook", spy, raising=False)
    return calls


@pytest.mark.anyio
async def test_xlsx_bomb_refused_before_parsing(
    registry: httpx.AsyncClient, parsed_workbooks: list[str]
) -> None:
    bomb = _xlsx_bomb()
    assert len(bomb) < MAX_IMPORT
    response = await registry.post(
        "/v1/residents/import",
        files={"file": ("warga.xlsx", bomb, "application/octet-stream")},
    )
    assert response.status_code in (413, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert parsed_workbooks == []


@pytest.mark.anyio
async def test_xlsx_with_too_many_rows_refused_at_upload(registry: httpx.AsyncClient) -> None:
    response = await registry.post(
        "/v1/residents/import",
        files={
            "file": ("warga.xlsx", _xlsx_declaring_rows(MAX_ROWS * 10), "application/octet-stream")
        },
    )
    assert response.status_code in (413, 422), response.text
    assert "rows" in response.json()["detail"]
    jobs = await registry.get("/v1/residents/imports", params={"limit": 10})
    assert jobs.status_code in (200, 404, 405)
    if jobs.status_code == 200:
        assert jobs.json()["items"] == []
