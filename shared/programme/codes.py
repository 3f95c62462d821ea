"""Region codes as Kemendagri writes them (``63.02.06.2009``), as patterns and pydantic types.

A province is ``63``, a regency ``63.02``, a district ``63.02.06``, a village
``63.02.06.2009``; whether a well-formed code exists is shared.programme.regions' question.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import StringConstraints

DISTRICT_CODE_PATTERN = r"^\d{2}\.\d{2}\.\d{2}$"
VILLAGE_CODE_PATTERN = r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$"
REGION_CODE_PATTERN = r"^\d{2}(\.\d{2}){1,2}(\.\d{4})?$"
"""A regency, district or village code."""
AREA_CODE_PATTERN = r"^\d{2}(\.\d{2}(\.\d{2})?)?$"
"""A province, regency or district code: the areas a region list is asked for."""

DISTRICT_CODE = re.compile(DISTRICT_CODE_PATTERN)
VILLAGE_CODE = re.compile(VILLAGE_CODE_PATTERN)
REGION_CODE = re.compile(REGION_CODE_PATTERN)

DistrictCode = Annotated[str, StringConstraints(pattern=DISTRICT_CODE_PATTERN)]
VillageCode = Annotated[str, StringConstraints(pattern=VILLAGE_CODE_PATTERN)]
RegionCode = Annotated[str, StringConstraints(pattern=REGION_CODE_PATTERN)]
