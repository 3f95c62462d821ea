"""The benchmark's read: the work of ``GET /v1/residents/{id}``, audit record included, for a
fixed admin-like principal, so a benchmark measures what authentication costs and nothing else.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.registry import access
from services.registry.residents import service as residents
from services.registry.residents.models import ResidentView
from services.registry.settings import RegistrySettings
from shared.kit.tokens import Principal
from shared.programme.scopes import default_scopes

BENCH_PRINCIPAL = Principal(
    subject="bench:unauthenticated",
    org_id="bench",
    org_type="admin",
    region=None,
    scopes=default_scopes("admin"),
)


def read_resident(
    session: Session, resident_id: str, settings: RegistrySettings, purpose: str | None
) -> tuple[ResidentView, str]:
    """The resident's view and its ETag, read as ``GET /v1/residents/{id}`` reads an agency's
    request (the bench principal is no provider, so no disclosure is looked up)."""
    resident = access.get_visible(session, BENCH_PRINCIPAL, resident_id)
    view = residents.present_one(
        session, BENCH_PRINCIPAL, resident, settings, action="resident.read", purpose=purpose
    )
    return view, residents.etag(resident)
