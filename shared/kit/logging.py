"""JSON-lines logging with the request id, an access log that never prints personal data, and
redaction of every log record whatever logger created it and whatever handler emits it.

The access log records the route template (``/v1/households/{family_card_number}``), the
path with only its non-personal segments (literal words and UUIDs), the names of the query
parameters (``?q=`` can carry a name or a NIK prefix, so never their values), the status, the
duration and the caller's organisation; request and response bodies are never logged.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("sinergi.access")
# Probes and feed polling, logged only when they fail (or at DEBUG).
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/v1/changes"})

# --- What a log line may not hold ---------------------------------------------------------
#
# A NIK and a family card number are 16 digits; UUIDs never hold a run of 16 digits, and a
# longer run is no NIK, so the run must stand alone.
SIXTEEN_DIGITS = re.compile(r"(?<!\d)\d{16}(?!\d)")
# Indonesian mobile numbers, as residents give them: +628…, 628…, 08….
PHONE = re.compile(r"(?<![\w+])(?:\+62|62|0)8\d{7,11}(?!\d)")
# PostgreSQL's DETAIL lines quote the row's values: "Key (nik)=(3171…) already exists.",
# "Key (household_id)=(…) is not present…", "Failing row contains (…, Budi, …)."
KEY_VALUES = re.compile(r"(Key \([^\n]*?\))=\([^\n]*\)")
FAILING_ROW = re.compile(r"(Failing row contains )\([^\n]*\)")
# SQLAlchemy's statement errors append the bound parameters (engines set hide_parameters, this
# catches an engine that does not); pydantic's errors quote the input.
SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")
INPUT_VALUE = re.compile(r"input_value=[^\n]*?(?=, input_type=|$)", re.MULTILINE)
# Request URLs in messages (httpx's "HTTP Request: GET http://registry/v1/households/6302…",
# its status errors, aiohttp's): redacted like the access log's path.
URL = re.compile(r"https?://[^\s'\"<>]+")
REDACTED = "<redacted>"

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Route words: lowercase letters and punctuation, no digit (a NIK, a family card number, a
# phone, a region code or a date all have digits), and the API version.
_LITERAL = re.compile(r"[a-z_.-]*|v\d{1,2}")
_QUERY_NAME = re.compile(r"[A-Za-z_][A-Za-z_.-]{0,63}")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _safe_segment(segment: str) -> bool:
    return bool(_LITERAL.fullmatch(segment) or _UUID.fullmatch(segment))


def safe_path(path: str, placeholder: str = "{id}") -> str:
    """The path with every segment that may be a value (anything but a route word or a UUID)
    replaced by ``placeholder``: for a path no route matched (the gateway forwards before any
    routing, a 404), where the template is unknown."""
    return "/".join(s if _safe_segment(s) else placeholder for s in path.split("/"))


def routed_path(path_format: str, path_params: dict[str, Any]) -> str:
    """The route template filled with the parameters that are not personal data (UUIDs and
    route words); the others stay ``{name}``."""

    def fill(match: re.Match[str]) -> str:
        value = path_params.get(match.group(1))
        text = "" if value is None else str(value)
        if text and all(_safe_segment(s) for s in text.split("/")):
            return text
        return match.group(0)

    return _PLACEHOLDER.sub(fill, path_format)


def query_names(query_string: str) -> list[str]:
    """The query's parameter names, never their values; a name that is not a plain word is
    itself a value someone typed and is shown as ``{param}``."""
    names = dict.fromkeys(
        name if _QUERY_NAME.fullmatch(name) else "{param}"
        for name, _value in parse_qsl(query_string, keep_blank_values=True)
    )
    return list(names)


def _safe_url(match: re.Match[str]) -> str:
    try:
        url = urlsplit(match.group(0))
        host = url.hostname or ""
        netloc = f"{host}:{url.port}" if url.port else host
    except ValueError:
        return REDACTED
    text = f"{url.scheme}://{netloc}{safe_path(url.path)}"
    if url.query:
        text += "?" + "&".join(query_names(url.query))
    return text


def redact_text(text: str) -> str:
    """``text`` without NIKs, family card numbers, phones, quoted database values or request
    URLs' values."""
    text = URL.sub(_safe_url, text)
    text = KEY_VALUES.sub(rf"\1=({REDACTED})", text)
    text = FAILING_ROW.sub(rf"\1({REDACTED})", text)
    text = SQL_PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    text = INPUT_VALUE.sub(f"input_value={REDACTED}", text)
    text = SIXTEEN_DIGITS.sub(REDACTED, text)
    return PHONE.sub(REDACTED, text)


def _type_name(kind: type) -> str:
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _describe(exc: BaseException) -> str:
    """An exception's type, and what the database said in structured fields (SQLSTATE, the
    constraint's name: schema, never values), without its message: the messages of database
    drivers, pydantic and httpx quote the offending value, and no pattern knows every way."""
    facts: list[str] = []
    for candidate in (exc, getattr(exc, "orig", None)):  # SQLAlchemy wraps the driver's error
        if not isinstance(candidate, BaseException):
            continue
        if candidate is not exc:
            facts.append(_type_name(type(candidate)))
        sqlstate = getattr(candidate, "sqlstate", None)
        if isinstance(sqlstate, str):
            facts.append(f"sqlstate {sqlstate}")
        constraint = getattr(getattr(candidate, "diag", None), "constraint_name", None)
        if isinstance(constraint, str):
            facts.append(f"constraint {constraint}")
    detail = "; " + ", ".join(facts) if facts else ""
    return f"{_type_name(type(exc))}: (message redacted{detail})"


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def format_exception(exc: BaseException, tb: Any = None) -> str:
    """Like ``traceback.format_exception`` (the chain of causes and contexts, every frame),
    each exception shown by :func:`_describe` instead of its message."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    for index, (each, link) in reversed(list(enumerate(chain))):
        frames = traceback.format_tb(tb if index == 0 and tb is not None else each.__traceback__)
        if frames:
            parts.append("Traceback (most recent call last):\n" + "".join(frames))
        parts.append(_describe(each) + "\n")
        if link:
            parts.append(link)
    return "".join(parts).rstrip("\n")


def redact_record(record: logging.LogRecord) -> None:
    """Redact a record's message, arguments, exception and stack in place."""
    if isinstance(record.msg, dict):
        record.msg = {
            key: redact_text(value) if isinstance(value, str) else value
            for key, value in record.msg.items()
        }
    else:
        formatted = True
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # arguments that do not fit the format
            message, formatted = f"(unformattable log message) {record.msg}", False
        redacted = redact_text(message)
        # Only a message that held something is replaced, so the others keep their format
        # and arguments for whoever groups lines by them.
        if redacted != message or not formatted:
            record.msg, record.args = redacted, None
    if record.exc_info:
        _type, exc, tb = record.exc_info
        if exc is not None:
            record.exc_text = redact_text(format_exception(exc, tb))
        # Formatters (python-json-logger among them) format exc_info themselves, with the
        # message; only the redacted text may remain.
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info)


_REDACTING_FACTORIES: set[Callable[..., logging.LogRecord]] = set()


def install_redaction() -> None:
    """Redact every record as it is created.

    The record factory is where every logger (ours, uvicorn's with its own handlers and
    ``propagate=False``, SQLAlchemy's, httpx's) makes its records, so redaction there reaches
    whatever handler emits the record, including one attached later: a filter on handlers
    reaches only the handlers it was put on. Fields passed as ``extra`` are set after the
    factory, so code that logs ``extra`` passes only values that are not personal data (the
    access log below); the filter on our handler redacts those too. The factory wraps the
    one installed before it (pytest's, say), once.
    """
    current = logging.getLogRecordFactory()
    if current in _REDACTING_FACTORIES:
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    # Remembered so a second install (another app in the same process) wraps it only once.
    _REDACTING_FACTORIES.add(factory)
    logging.setLogRecordFactory(factory)


class RedactExceptionMessages(logging.Filter):
    """Redact a record on a handler: for records made before :func:`install_redaction` or
    through ``logging.makeLogRecord``, and for string ``extra`` fields, which the record
    factory cannot see."""

    STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        for key, value in list(record.__dict__.items()):
            if key not in self.STANDARD and isinstance(value, str):
                record.__dict__[key] = redact_text(value)
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    install_redaction()
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(CorrelationIdFilter(uuid_length=32, default_value="-"))
    handler.addFilter(RedactExceptionMessages())
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            rename_fields={"correlation_id": "request_id", "levelname": "level"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's own access log prints the path and query string; ours (below) does not. Every
    # start command passes --no-access-log too.
    logging.getLogger("uvicorn.access").disabled = True
    # Feed polling calls other services twice a second, and httpx logs every request's URL at
    # INFO: their client lines are noise (and the URLs are redacted anyway).
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


def access_fields(scope: Scope) -> dict[str, Any]:
    """What the access log says about a request's target: the route template when routing
    matched one (FastAPI puts the route in the scope), the path with only its non-personal
    segments, and the query parameters' names."""
    path_format = getattr(scope.get("route"), "path_format", None)
    fields: dict[str, Any] = {}
    if isinstance(path_format, str):
        fields["route"] = path_format
        fields["path"] = routed_path(path_format, scope.get("path_params") or {})
    else:
        fields["route"] = None
        fields["path"] = safe_path(scope["path"])
    query: bytes = scope.get("query_string", b"")
    if query:
        fields["query"] = query_names(query.decode("latin-1"))
    return fields


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            principal: Any = (scope.get("state") or {}).get("principal")
            quiet = scope["path"] in QUIET_PATHS and status < 400
            access_logger.log(
                logging.DEBUG if quiet else logging.INFO,
                "request",
                extra={
                    "method": scope["method"],
                    **access_fields(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "org": getattr(principal, "org_id", None),
                },
            )
