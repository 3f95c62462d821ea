"""Benchmark only (``REGISTRY_BENCH_UNAUTHENTICATED_READS``): ``GET /bench/residents/{id}``
does exactly what ``GET /v1/residents/{id}`` does, audit record included, for a fixed
admin-like principal without a token, so a benchmark can measure what authentication costs.
Refused in production by ``RegistrySettings.production_problems``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.registry.bench import service
from services.registry.deps import PurposeDep, SettingsDep
from services.registry.residents.models import ResidentView
from shared.kit.database import SessionDep

router = APIRouter(prefix="/bench", tags=["benchmark"], include_in_schema=False)


@router.get("/residents/{resident_id}")
def bench_get_resident(
    resident_id: str,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentView:
    view, etag = service.read_resident(session, resident_id, settings, purpose)
    response.headers["ETag"] = etag
    return view
