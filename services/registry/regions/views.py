"""``GET /v1/regions?parent=``: the Kemendagri reference list, public reference data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.registry.regions import service
from services.registry.regions.models import RegionPublic
from shared.kit.problems import problem_responses
from shared.programme.codes import AREA_CODE_PATTERN

router = APIRouter(prefix="/v1/regions", tags=["regions"])


@router.get("", responses=problem_responses(404, 422), summary="Regions under a parent")
def list_regions(
    parent: Annotated[
        str | None,
        Query(
            pattern=AREA_CODE_PATTERN,
            description="Province, regency or district code; omitted: the provinces",
        ),
    ] = None,
) -> list[RegionPublic]:
    return service.list_children(parent)
