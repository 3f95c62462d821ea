"""Benchmark only (``REGISTRY_BENCH_UNAUTHENTICATED_READS``): ``GET /bench/residents/{id}``
does exactly what ``GET /v1/residents/{id}`` does, audit record included, for a fixed
admin-like principal without a token, so a benchmark can measure what authentication costs.
Two more (token required) let a benchmark compare the route with what it could be and what it
was: ``GET /bench/sync/residents/{id}``, the same one round trip from a plain ``def`` route on
a thread-pool driver, and ``GET /bench/previous/residents/{id}``, the read as the route did it
before (request session, ORM select, audit insert through the ORM).
Refused in production by ``RegistrySettings.production_problems``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.registry.bench import service
from services.registry.deps import (
    AsyncReadPoolDep,
    PurposeDep,
    Reading,
    ReadPoolDep,
    ResidentsReader,
    SettingsDep,
)
from services.registry.residents import reads
from services.registry.residents.models import ResidentView

router = APIRouter(prefix="/bench", tags=["benchmark"], include_in_schema=False)


@router.get("/residents/{resident_id}")
async def bench_get_resident(
    resident_id: str,
    pool: AsyncReadPoolDep,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentView:
    view, etag = await service.read_resident(pool, resident_id, settings, purpose)
    response.headers["ETag"] = etag
    return view


@router.get("/sync/residents/{resident_id}")
def bench_get_resident_sync(
    resident_id: str,
    principal: ResidentsReader,
    purpose: PurposeDep,
    pool: ReadPoolDep,
    settings: SettingsDep,
    response: Response,
) -> ResidentView:
    view, etag = reads.read(pool, principal, resident_id, settings, purpose=purpose)
    response.headers["ETag"] = etag
    return view


@router.get("/previous/residents/{resident_id}")
def bench_get_resident_previously(
    resident_id: str, desk: Reading, response: Response
) -> ResidentView:
    view, etag = service.read_resident_previously(
        desk.session, desk.principal, resident_id, desk.settings, desk.purpose
    )
    response.headers["ETag"] = etag
    return view
