"""What the routes of every domain ask FastAPI for: the settings, the caller with the scope
it needs, the catalogue's context; and the headers every route that answers with one
opportunity sends (the catalogue's routes and the JobPosting route alike)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Response
from sqlmodel import Session

from services.opportunities.catalogue.models import OpportunityPublic
from services.opportunities.catalogue.service import Catalogue, etag
from services.opportunities.settings import OpportunitiesSettings
from shared.kit.auth import scoped
from shared.kit.database import SessionDep
from shared.kit.settings import settings_dependency
from shared.kit.tokens import Principal
from shared.programme.scopes import OPPORTUNITIES_READ, OPPORTUNITIES_WRITE

SettingsDep = Annotated[OpportunitiesSettings, Depends(settings_dependency(OpportunitiesSettings))]

Reader = Annotated[Principal, Depends(scoped(OPPORTUNITIES_READ))]
Writer = Annotated[Principal, Depends(scoped(OPPORTUNITIES_WRITE))]


async def get_catalogue(settings: SettingsDep) -> Catalogue:
    return Catalogue(regency_code=settings.regency_code, timezone=settings.timezone)


CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]


@dataclass(frozen=True)
class CatalogueRequest:
    """What every catalogue route hands its service: the request's session (it owns the
    transaction), the caller as its scope admitted it, and the catalogue's context."""

    session: Session
    principal: Principal
    catalogue: Catalogue


async def _publishing(
    session: SessionDep, principal: Writer, catalogue: CatalogueDep
) -> CatalogueRequest:
    return CatalogueRequest(session, principal, catalogue)


async def _browsing(
    session: SessionDep, principal: Reader, catalogue: CatalogueDep
) -> CatalogueRequest:
    return CatalogueRequest(session, principal, catalogue)


# A provider (or the secretariat) writing the catalogue; anyone with the read scope browsing it.
Publishing = Annotated[CatalogueRequest, Depends(_publishing)]
Browsing = Annotated[CatalogueRequest, Depends(_browsing)]


def etag_headers(opportunity: OpportunityPublic) -> dict[str, str]:
    return {"ETag": etag(opportunity), "Location": f"/v1/opportunities/{opportunity.id}"}


def answer_one(response: Response, opportunity: OpportunityPublic) -> OpportunityPublic:
    """A route that answers with one opportunity sends its version as the ETag, so the next
    edit can say which version it changes."""
    response.headers.update(etag_headers(opportunity))
    return opportunity


def answer_upsert(response: Response, opportunity: OpportunityPublic, *, created: bool) -> None:
    """An upsert by the provider's reference answers 201 when it created, 200 when it replaced."""
    response.status_code = 201 if created else 200
    answer_one(response, opportunity)
