"""No log line holds a NIK, a family card number or a phone: every record is redacted however
it is emitted (a handler attached later, uvicorn's own handlers, an exception's text, a
database error quoting the key), SQL parameters stay out of errors, and the access log names
the route, not the resident."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from shared.kit.app import create_service_app
from shared.kit.database import Database
from shared.kit.logging import configure_logging, safe_path
from shared.kit.migrations import migration_engine
from shared.kit.settings import ServiceSettings
from tests.support.databases import DatabaseFactory
from tests.support.ports import free_port

SERVICE_DIR = Path(__file__).parents[2] / "services" / "registry"
# Built from parts, so that this file's own source lines (tracebacks quote them) hold no
# value the assertions look for.
NIK = "630206" + "4101900001"
CARD = "630206" + "0101250001"
PHONE = "0812" + "34567890"
RESIDENT_ID = "0b5e3c1e-1111-4222-8333-444455556666"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sinergi.access")


def assert_clean(output: str) -> None:
    for value in (NIK, CARD, PHONE, PHONE[1:]):
        assert value not in output, output


@dataclass
class Logs:
    """The JSON lines of ``configure_logging``'s handler, and any other stream a test adds."""

    root: io.StringIO = field(default_factory=io.StringIO)
    streams: list[io.StringIO] = field(default_factory=list)

    def handler(self, logger: str, fmt: str = "%(message)s") -> io.StringIO:
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(fmt))
        logging.getLogger(logger).addHandler(handler)
        self.streams.append(stream)
        return stream

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.root.getvalue().splitlines() if line]

    def everything(self) -> str:
        return self.root.getvalue() + "".join(s.getvalue() for s in self.streams)


@pytest.fixture
def logs() -> Iterator[Logs]:
    """``configure_logging`` as a service runs it, undone afterwards."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved_factory = logging.getLogRecordFactory()
    names = (*UVICORN_LOGGERS, "sinergi.test", "httpx", "httpcore", "alembic")
    saved = {
        name: (lg.handlers[:], lg.level, lg.propagate, lg.disabled)
        for name in names
        for lg in [logging.getLogger(name)]
    }
    captured = Logs()
    configure_logging("test")
    root.handlers[0].setStream(captured.root)  # type: ignore[attr-defined]
    try:
        yield captured
    finally:
        root.handlers[:], level = saved_root
        root.setLevel(level)
        logging.setLogRecordFactory(saved_factory)
        for name, (handlers, lvl, propagate, disabled) in saved.items():
            lg = logging.getLogger(name)
            lg.handlers[:] = handlers
            lg.setLevel(lvl)
            lg.propagate = propagate
            lg.disabled = disabled


def test_a_handler_attached_after_setup_gets_redacted_records(logs: Logs) -> None:
    late = logs.handler("sinergi.test", "%(levelname)s %(message)s")
    logger = logging.getLogger("sinergi.test")
    logger.warning("resident %s of card %s, phone %s", NIK, CARD, "+62" + PHONE[1:])
    logger.info(f"HTTP Request: GET http://registry/v1/households/{CARD}?nik={NIK} 200")
    try:
        raise ValueError(f"Key (nik)=({NIK}) already exists, phone {PHONE}")
    except ValueError:
        logger.exception("registering failed")
    out = late.getvalue()
    assert_clean(logs.everything())
    assert "resident <redacted> of card <redacted>, phone <redacted>" in out
    assert "GET http://registry/v1/households/{id}?nik 200" in out
    # The exception keeps its type and frames, not its message.
    assert "registering failed" in out and "ValueError: (message redacted)" in out
    assert "test_a_handler_attached_after_setup_gets_redacted_records" in out


def test_causes_and_contexts_of_an_exception_are_redacted_too(logs: Logs) -> None:
    try:
        try:
            raise KeyError(NIK)
        except KeyError as exc:
            raise RuntimeError(f"lookup of {CARD}") from exc
    except RuntimeError:
        logging.getLogger("sinergi.test").exception("lookup")
    (line,) = [line for line in logs.lines() if line["message"] == "lookup"]
    trace = str(line["exc_info"])
    assert_clean(logs.everything())
    assert "KeyError: (message redacted)" in trace
    assert "direct cause" in trace and "RuntimeError: (message redacted)" in trace


def _service(tmp_path: Path, public: APIRouter, **options: Any) -> FastAPI:
    """A bare service app serving ``public``, as the kit builds every service."""
    return create_service_app(
        ServiceSettings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", jwks_url=""),
        title="test",
        description="test",
        service_dir=SERVICE_DIR,
        public_routers=[public],
        **options,
    )


def test_uvicorn_logs_a_failing_request_through_its_own_handler_redacted(
    tmp_path: Path,
) -> None:
    """The process as production runs it: uvicorn configures its loggers (own handlers,
    ``propagate=False``), then the factory configures ours, then a request fails with a NIK
    in the exception's message and uvicorn logs the re-raised exception."""
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved_factory = logging.getLogRecordFactory()
    saved = {n: logging.getLogger(n).__dict__.copy() for n in UVICORN_LOGGERS}
    uvicorn_out, root_out = io.StringIO(), io.StringIO()

    def create_app() -> FastAPI:
        public = APIRouter()

        @public.get("/v1/households/{family_card_number}")
        def fail(family_card_number: str) -> None:
            raise RuntimeError(f"resident {NIK} of card {family_card_number}, phone {PHONE}")

        app = _service(tmp_path, public)
        root.handlers[0].setStream(root_out)  # type: ignore[attr-defined]
        for handler in logging.getLogger("uvicorn").handlers:
            handler.setStream(uvicorn_out)  # type: ignore[attr-defined]
        return app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app, factory=True, host="127.0.0.1", port=port, lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/v1/households/{CARD}?phone={PHONE}")
        assert response.status_code == 500
    finally:
        server.should_exit = True
        thread.join(10)
        root.handlers[:], level = saved_root
        root.setLevel(level)
        logging.setLogRecordFactory(saved_factory)
        for name, state in saved.items():
            logging.getLogger(name).__dict__.update(state)
    printed = uvicorn_out.getvalue()
    assert "Exception in ASGI application" in printed
    assert "RuntimeError: (message redacted)" in printed
    assert_clean(printed + root_out.getvalue())
    (access,) = [
        json.loads(line) for line in root_out.getvalue().splitlines() if '"sinergi.access"' in line
    ]
    assert access["route"] == access["path"] == "/v1/households/{family_card_number}"
    assert access["query"] == ["phone"] and access["status"] == 500


def test_database_errors_hold_no_parameters_and_log_no_key(
    backend: str, databases: DatabaseFactory, logs: Logs
) -> None:
    url = databases.new(backend, "logtest", migrated=False)
    for engine in (Database(url).engine, migration_engine(url)):
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS person"))
            connection.execute(text("CREATE TABLE person (nik VARCHAR(16) UNIQUE, phone TEXT)"))
        insert = text("INSERT INTO person (nik, phone) VALUES (:nik, :phone)")
        with engine.begin() as connection:
            connection.execute(insert, {"nik": NIK, "phone": PHONE})
        with pytest.raises(IntegrityError) as caught, engine.begin() as connection:
            connection.execute(insert, {"nik": NIK, "phone": PHONE})
        # hide_parameters: the bound values are not in the error (PostgreSQL's DETAIL line
        # still quotes the key, which redaction takes out below).
        assert PHONE not in str(caught.value)
        assert "SQL parameters hidden" in str(caught.value)
        if backend == "postgresql":
            assert f"Key (nik)=({NIK}) already exists" in str(caught.value)
        logger = logging.getLogger("sinergi.test")
        logger.warning("registering failed: %s", caught.value)
        try:
            raise caught.value
        except IntegrityError:
            logger.exception("registering failed")
        engine.dispose()
    assert_clean(logs.everything())
    failures = [line for line in logs.lines() if line["message"] == "registering failed"]
    assert len(failures) == 2
    for line in failures:
        assert "sqlalchemy.exc.IntegrityError: (message redacted" in str(line["exc_info"])
        if backend == "postgresql":
            # What the database said, in fields that hold no values.
            assert "psycopg.errors.UniqueViolation, sqlstate 23505" in str(line["exc_info"])
            assert "constraint person_nik_key" in str(line["exc_info"])
    if backend == "postgresql":
        warnings = [str(line["message"]) for line in logs.lines()]
        assert any("Key (nik)=(<redacted>) already exists" in m for m in warnings)


@pytest.mark.anyio
async def test_the_access_log_names_the_route_and_the_query_names_only(
    tmp_path: Path, logs: Logs
) -> None:
    public = APIRouter()

    @public.get("/v1/households/{family_card_number}")
    def household(family_card_number: str) -> dict[str, str]:
        return {}

    @public.get("/v1/residents/{resident_id}/follow-ups")
    def follow_ups(resident_id: str) -> dict[str, str]:
        return {}

    app = _service(tmp_path, public, configure_logs=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        await client.get(f"/v1/households/{CARD}", params={"q": "Budi", "phone": PHONE})
        await client.get(f"/v1/residents/{RESIDENT_ID}/follow-ups")
        await client.get(f"/v1/residents/{NIK}/follow-ups")
        await client.get(f"/v1/nowhere/{NIK}/x1/{PHONE}")
    assert_clean(logs.everything())
    access = [line for line in logs.lines() if line["name"] == "sinergi.access"]
    seen = [(line["route"], line["path"], line.get("query"), line["status"]) for line in access]
    assert seen == [
        (
            "/v1/households/{family_card_number}",
            "/v1/households/{family_card_number}",
            ["q", "phone"],
            200,
        ),
        (
            "/v1/residents/{resident_id}/follow-ups",
            f"/v1/residents/{RESIDENT_ID}/follow-ups",
            None,
            200,
        ),
        (
            "/v1/residents/{resident_id}/follow-ups",
            "/v1/residents/{resident_id}/follow-ups",
            None,
            200,
        ),
        # No route (the gateway forwards before any routing): values become {id}.
        (None, "/v1/nowhere/{id}/{id}/{id}", None, 404),
    ]


def test_unrouted_paths_keep_route_words_and_uuids_only() -> None:
    assert safe_path(f"/v1/households/{CARD}") == "/v1/households/{id}"
    assert safe_path(f"/v1/residents/{RESIDENT_ID}/history") == (
        f"/v1/residents/{RESIDENT_ID}/history"
    )
    assert safe_path("/v1/regions/63.02.17.2001/..") == "/v1/regions/{id}/.."
    assert safe_path("/v1/auth/jwks.json") == "/v1/auth/jwks.json"
    assert safe_path(f"/v1/residents/+62{PHONE[1:]}") == "/v1/residents/{id}"


def test_uvicorn_and_httpx_access_lines_stay_off(logs: Logs) -> None:
    # uvicorn's access line prints the path and query; httpx's INFO line the URL of every
    # call between services.
    assert logging.getLogger("uvicorn.access").disabled
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    repo = Path(__file__).parents[2]
    starts = [repo / "Procfile", repo / "deploy" / "Dockerfile", repo / "deploy" / "compose.yaml"]
    for path in [*starts, *sorted((repo / "deploy" / "k8s" / "base").glob("*.yaml"))]:
        lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
        commands = sum(line.count("--factory") for line in lines)
        assert commands == sum(line.count("--no-access-log") for line in lines), path
