"""``GET /v1/regions?parent=``: the Kemendagri reference list, public reference data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from shared.kit.problems import NotFound, problem_responses
from shared.programme.codes import AREA_CODE_PATTERN
from shared.programme.regions import children_of, get_region

router = APIRouter(prefix="/v1/regions", tags=["regions"])


class RegionPublic(BaseModel):
    code: str
    name: str
    level: str
    parent_code: str | None


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
    if parent is not None and get_region(parent) is None:
        raise NotFound(f"no region {parent}")
    return [
        RegionPublic(code=r.code, name=r.name, level=r.level, parent_code=r.parent_code)
        for r in sorted(children_of(parent), key=lambda r: r.code)
    ]
