"""Benchmark only (``REGISTRY_BENCH_UNAUTHENTICATED_READS``): ``GET /bench/residents/{id}``
does exactly what ``GET /v1/residents/{id}`` does, audit record included, for a fixed
admin-like principal without a token, so a benchmark can measure what authentication costs;
``GET /bench/previous/residents/{id}`` (token required) is the same read as the route did it
before it became one round trip, so a benchmark can measure what that gained.
Refused in production by ``RegistrySettings.production_problems``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.registry.bench import service
from services.registry.deps import PurposeDep, Reading, ReadPoolDep, SettingsDep
from services.registry.residents.models import ResidentView

router = APIRouter(prefix="/bench", tags=["benchmark"], include_in_schema=False)


@router.get("/residents/{resident_id}")
def bench_get_resident(
    resident_id: str,
    pool: ReadPoolDep,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentView:
    view, etag = service.read_resident(pool, resident_id, settings, purpose)
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
