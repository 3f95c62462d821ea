"""Benchmark only (``REGISTRY_BENCH_UNAUTHENTICATED_READS``): ``GET /bench/residents/{id}``
does exactly what ``GET /v1/residents/{id}`` does, audit record included, for a fixed
admin-like principal without a token, so a benchmark can measure what authentication costs.
Refused in production by ``RegistrySettings.production_problems``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from services.registry.deps import PurposeDep, SettingsDep
from services.registry.residents.models import ResidentView
from services.registry.residents.views import read_resident
from shared.kit.database import SessionDep
from shared.kit.tokens import Principal
from shared.programme.scopes import default_scopes

router = APIRouter(prefix="/bench", tags=["benchmark"], include_in_schema=False)

BENCH_PRINCIPAL = Principal(
    subject="bench:unauthenticated",
    org_id="bench",
    org_type="admin",
    region=None,
    scopes=default_scopes("admin"),
)


@router.get("/residents/{resident_id}")
def bench_get_resident(
    resident_id: str,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    purpose: PurposeDep,
) -> ResidentView:
    return read_resident(session, BENCH_PRINCIPAL, resident_id, settings, response, purpose)
