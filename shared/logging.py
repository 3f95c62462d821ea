"""JSON-lines logging with the request id, and an access log that never prints personal data.

Query strings can carry a name or a NIK prefix (``?q=``), so the access log records the path
alone; request and response bodies are never logged.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from typing import Any

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("sinergi.access")
# Probes and feed polling, logged only when they fail (or at DEBUG).
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/v1/changes"})


class RedactExceptionMessages(logging.Filter):
    """Keep a logged exception's type and traceback but drop its message: database errors
    quote the offending values (a NIK, a name), and logs must hold no personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, _exc, tb = record.exc_info
            frames = "".join(traceback.format_tb(tb))
            record.exc_text = f"Traceback (message redacted):\n{frames}{exc_type.__name__}"
            record.exc_info = None
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
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
    # uvicorn's own access log prints query strings; ours (below) does not.
    logging.getLogger("uvicorn.access").disabled = True
    # Feed polling calls other services twice a second: their client lines are noise.
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))


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
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "org": getattr(principal, "org_id", None),
                },
            )
