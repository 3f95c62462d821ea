"""The floor of the API path benchmark: a bare ASGI app under the same uvicorn, answering a
constant JSON body about the size of a resident, with no framework, token or database."""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Receive, Scope, Send

BODY = json.dumps(
    {
        "id": "00000000-0000-4000-8000-000000000000",
        "version": 1,
        "village_code": "63.02.17.2002",
        "district_code": "63.02.17",
        "regency_code": "63.02",
        "birth_month": "1991-04",
        "age": 34,
        "sex": "F",
        "education_level": "senior_secondary",
        "skills": ["tailoring"],
        "employment_status": "unemployed",
        "welfare_decile": 2,
        "household_size": 4,
        "status": "verified",
        "priority_rank": 5,
    }
).encode()
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message: Any = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
