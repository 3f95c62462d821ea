"""The registry's call to matching for a resident's own answer to an offer
(``POST /v1/placements/{id}/resident-decision``), made with the registry's own service token
(``registry-service``, scope ``placements:resident-decision``): the resident holds no token,
and the village's proxy acceptance is another path altogether."""

from __future__ import annotations

import logging
from typing import Literal
from urllib.parse import quote

import httpx

from shared.kit.problems import ServiceUnavailable

logger = logging.getLogger("sinergi.registry.notifications")

Decision = Literal["accept", "decline"]
Answer = Literal["done", "closed", "unknown"]


async def send_decision(
    client: httpx.AsyncClient, placement_id: str, resident_id: str, decision: Decision
) -> Answer:
    """``done``: matching recorded it (or had already); ``closed``: the placement can no longer
    be answered; ``unknown``: matching knows no such placement of this resident. Matching
    unreachable is 503, so the SMS gateway retries and the reply is not lost."""
    try:
        response = await client.post(
            f"/v1/placements/{quote(placement_id, safe='')}/resident-decision",
            json={"resident_id": resident_id, "decision": decision},
        )
    except httpx.HTTPError as exc:
        logger.warning("resident decision not sent: %s", type(exc).__name__)
        raise ServiceUnavailable("matching cannot record the answer now; retry") from exc
    if response.status_code == 200:
        return "done"
    if response.status_code == 409:
        return "closed"
    if response.status_code in (404, 422):
        return "unknown"
    logger.warning("resident decision refused: matching answered %s", response.status_code)
    raise ServiceUnavailable("matching did not record the answer; retry")
