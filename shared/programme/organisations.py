"""The programme's organisation types and the sets the access rules speak of (DESIGN.md)."""

from __future__ import annotations

from typing import Literal, get_args

OrgType = Literal[
    "admin",
    "government_agency",
    "village_government",
    "district_government",
    "company",
    "university",
    "school",
    "bumdes",
    "ngo",
    "regional_agency",
    "service",
]
ORG_TYPES: tuple[str, ...] = get_args(OrgType)

PROGRAMME_TYPES = frozenset({"admin", "government_agency"})
"""The programme's own organisations: they see and run the whole regency."""
PROVIDER_TYPES = frozenset({"company", "university", "school", "bumdes", "ngo"})
"""Organisations that offer jobs, internships, training, capital or mentoring."""
LOCAL_GOVERNMENT_TYPES = frozenset({"village_government", "district_government"})
"""Organisations that govern a region; they must name it, and see only residents in it."""
REGIONAL_TYPES = LOCAL_GOVERNMENT_TYPES
REGENCY_REPORT_TYPES = PROGRAMME_TYPES | {"regional_agency"}
"""Organisations whose reports cover the whole regency (regional agencies suppressed)."""
