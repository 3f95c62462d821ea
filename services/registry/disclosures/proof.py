"""The registry's one outbound call: asking matching whether the placement a disclosure names
is real (docs/contracts.md, ``GET /v1/placements/{id}/disclosure-proof``). A service token
alone cannot open a resident to an organisation; the placement matching holds must agree.

The question is asked with the disclosing service's own token (the one that holds
``residents:disclose``), so the registry needs no credentials of its own."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from urllib.parse import quote

import anyio
import httpx
from fastapi import FastAPI

from services.registry.settings import RegistrySettings
from shared.kit.http import service_client
from shared.kit.problems import ServiceUnavailable

logger = logging.getLogger("sinergi.registry.disclosures")


@dataclass(frozen=True, slots=True)
class PlacementProof:
    org_id: str
    resident_id: str
    status: str


def matching_client(
    settings: RegistrySettings, transport: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncClient:
    """``transport``: tests pass an ASGITransport around the real matching app."""
    return service_client(
        settings.matching_url,
        timeout_seconds=settings.request_timeout_seconds,
        transport=transport,
    )


async def close_matching_client(app: FastAPI) -> None:
    """A background task that only waits: on shutdown it closes the client."""
    try:
        await anyio.sleep_forever()
    finally:
        await app.state.matching.aclose()


async def fetch_proof(
    client: httpx.AsyncClient, placement_id: str, authorization: str
) -> PlacementProof | None:
    """The placement as matching holds it, None when matching knows no such placement. Matching
    unreachable or answering otherwise is 503: the disclosure stays pending in matching's
    outbox and is retried, so nothing is lost and nothing unproven is written."""
    try:
        response = await client.get(
            f"/v1/placements/{quote(placement_id, safe='')}/disclosure-proof",
            headers={"Authorization": authorization},
        )
    except httpx.HTTPError as exc:
        logger.warning("disclosure proof unavailable: %s", type(exc).__name__)
        raise ServiceUnavailable("matching cannot confirm the placement now; retry") from exc
    # 422: the id is no placement id at all (matching's ids are UUIDs).
    if response.status_code in (404, 422):
        return None
    if response.status_code != 200:
        logger.warning("disclosure proof refused: matching answered %s", response.status_code)
        raise ServiceUnavailable("matching did not confirm the placement; retry")
    try:
        body = response.json()
        return PlacementProof(
            org_id=str(body["org_id"]),
            resident_id=str(uuid.UUID(str(body["resident_id"]))),
            status=str(body["status"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        logger.warning("disclosure proof unreadable")
        raise ServiceUnavailable("matching did not confirm the placement; retry") from exc
