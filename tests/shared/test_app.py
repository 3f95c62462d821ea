"""The application factory's guarantees: problem details for every error, body limits,
authentication on by default, cursor pagination, commit before the response."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, insert, select
from sqlmodel import Field, SQLModel

from shared.kit.app import create_service_app
from shared.kit.database import SessionDep, new_registry
from shared.kit.pagination import PageParamsDep, paginate
from shared.kit.problems import Conflict
from shared.kit.settings import ServiceSettings

SERVICE_DIR = Path(__file__).parents[2] / "services" / "registry"


class Base(SQLModel, registry=new_registry()):
    pass


metadata = Base.metadata


class Item(Base, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=20)


items = Item.__table__  # type: ignore[attr-defined]


class ItemIn(BaseModel):
    name: str
    count: int


def _app(url: str, verifier):  # type: ignore[no-untyped-def]
    router = APIRouter()
    public = APIRouter()

    @router.post("/v1/items", status_code=201)
    def create(body: ItemIn, session: SessionDep) -> dict[str, str]:
        session.execute(insert(items).values(name=body.name))
        if body.name == "clash":
            raise Conflict("an item of that name exists")
        return {"name": body.name}

    @router.get("/v1/items")
    def list_items(
        session: SessionDep, page: PageParamsDep, prefix: Annotated[str, Query()] = ""
    ) -> dict[str, object]:
        statement = select(Item).where(items.c.name.startswith(prefix))
        rows, cursor = paginate(session, statement, [items.c.id], page)
        return {"items": [{"name": row.name} for row in rows], "next_cursor": cursor}

    @router.get("/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret-internal-state")

    @public.get("/v1/open")
    def open_endpoint() -> dict[str, bool]:
        return {"open": True}

    app = create_service_app(
        ServiceSettings(database_url=url, jwks_url="", max_body_bytes=200),
        title="test",
        description="test",
        service_dir=SERVICE_DIR,
        routers=[router],
        public_routers=[public],
        verifier=verifier,
        configure_logs=False,
    )
    metadata.create_all(app.state.db.engine)
    return app


@pytest.fixture
async def client(backend: str, databases, keys):  # type: ignore[no-untyped-def]
    app = _app(databases.new(backend, "apptest", migrated=False), keys.verifier())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://svc", headers=keys.headers("admin")
    ) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


@pytest.mark.anyio
async def test_auth_is_on_by_default_and_public_routes_are_open(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/v1/items", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert (await client.get("/v1/open", headers={"Authorization": ""})).json() == {"open": True}


@pytest.mark.anyio
async def test_validation_errors_name_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/items", json={"name": "x", "count": "many"})
    assert response.status_code == 422
    body = response.json()
    assert response.headers["content-type"] == "application/problem+json"
    assert body["errors"][0]["loc"] == ["body", "count"]


@pytest.mark.anyio
async def test_domain_error_rolls_back_the_write(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/items", json={"name": "clash", "count": 1})
    assert response.status_code == 409
    assert response.json()["type"] == "urn:sinergi:problem:conflict"
    assert (await client.post("/v1/items", json={"name": "kept", "count": 1})).status_code == 201
    with client.app.state.db.session(write=False) as session:  # type: ignore[attr-defined]
        names = list(session.scalars(select(items.c.name)))
    assert names == ["kept"]


@pytest.mark.anyio
async def test_unexpected_error_is_a_problem_without_internals(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert "secret-internal-state" not in response.text


@pytest.mark.anyio
async def test_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/items", json={"name": "x" * 300, "count": 1})
    assert response.status_code == 413
    assert response.json()["status"] == 413

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(10):
            yield b"x" * 50

    streamed = await client.post(
        "/v1/items", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


@pytest.mark.anyio
async def test_cursor_pagination_walks_every_row_once(client: httpx.AsyncClient) -> None:
    for i in range(7):
        assert (
            await client.post("/v1/items", json={"name": f"n{i}", "count": i})
        ).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/items", params=params)).json()
        seen += [row["name"] for row in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"n{i}" for i in range(7)]
    assert (await client.get("/v1/items", params={"cursor": "!!"})).status_code == 422
    assert (await client.get("/v1/items", params={"limit": 501})).status_code == 422
    with client.app.state.db.session(write=False) as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(items)) == 7


def test_logged_exceptions_keep_no_message() -> None:
    import logging

    from shared.kit.logging import RedactExceptionMessages

    try:
        nik = "63020641" + "01900001"
        raise ValueError(f"Key (nik)=({nik}) already exists")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, sys.exc_info())
    assert RedactExceptionMessages().filter(record)
    assert record.exc_info is None
    assert "6302064101900001" not in (record.exc_text or "")
    assert "ValueError" in (record.exc_text or "")


@pytest.mark.anyio
async def test_many_concurrent_writes_neither_deadlock_nor_fail(client: httpx.AsyncClient) -> None:
    import anyio

    statuses: list[int] = []

    async def post(i: int) -> None:
        response = await client.post("/v1/items", json={"name": f"c{i}", "count": i})
        statuses.append(response.status_code)

    # More concurrent requests than worker threads (40) and pooled connections (20).
    async with anyio.create_task_group() as group:
        for i in range(120):
            group.start_soon(post, i)
    assert statuses == [201] * 120
    with client.app.state.db.session(write=False) as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(items)) == 120


@pytest.mark.anyio
async def test_validation_errors_do_not_echo_submitted_values(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/items", json={"name": "6302064101900001"})
    assert response.status_code == 422
    assert "6302064101900001" not in response.text
    assert response.json()["errors"][0]["loc"] == ["body", "count"]


@pytest.mark.anyio
async def test_nul_bytes_in_query_are_422_naming_the_parameter(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/items", params={"prefix": "a\x00b"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["query", "prefix"]
    assert (await client.get("/v1/items", params={"prefix": "ab"})).status_code == 200


@pytest.mark.anyio
async def test_a_value_the_database_cannot_hold_is_422_not_500(
    client: httpx.AsyncClient, backend: str
) -> None:
    response = await client.post("/v1/items", json={"name": "nul\x00byte", "count": 1})
    if backend == "postgresql":  # PostgreSQL text cannot hold NUL; SQLite stores it
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body"]
    else:
        assert response.status_code == 201
