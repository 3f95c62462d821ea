"""The benchmark's reads: ``GET /v1/residents/{id}`` for a fixed admin-like principal, so a
benchmark measures what authentication costs and nothing else, and the same read as it was
before ``residents/reads.py`` (request session, ORM select, audit insert through the ORM), so
a benchmark compares the two in one run."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.registry.residents import reads
from services.registry.residents import service as residents
from services.registry.residents.models import ResidentView
from services.registry.settings import RegistrySettings
from shared.kit.database import AsyncStatementPool
from shared.kit.tokens import Principal
from shared.programme.scopes import default_scopes

BENCH_PRINCIPAL = Principal(
    subject="bench:unauthenticated",
    org_id="bench",
    org_type="admin",
    region=None,
    scopes=default_scopes("admin"),
)


async def read_resident(
    pool: AsyncStatementPool, resident_id: str, settings: RegistrySettings, purpose: str | None
) -> tuple[ResidentView, str]:
    """The resident's view and its ETag, read as ``GET /v1/residents/{id}`` reads an agency's
    request (the bench principal is no provider, so no disclosure is looked up)."""
    return await reads.read_async(pool, BENCH_PRINCIPAL, resident_id, settings, purpose=purpose)


def read_resident_previously(
    session: Session,
    principal: Principal,
    resident_id: str,
    settings: RegistrySettings,
    purpose: str | None,
) -> tuple[ResidentView, str]:
    """The read as ``GET /v1/residents/{id}`` did it before: ``service.read`` on the request's
    session, committed by the session dependency."""
    resident, view = residents.read(session, principal, resident_id, settings, purpose=purpose)
    return view, residents.etag(resident)
