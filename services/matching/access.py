"""Who may see and do what, by organisation type and region (DESIGN.md's access matrix).
Rows out of a caller's reach answer 404, never 403, so ids cannot be probed."""

from __future__ import annotations

from shared.kit.problems import Forbidden, NotFound
from shared.kit.tokens import Principal
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES, PROGRAMME_TYPES, PROVIDER_TYPES
from shared.programme.regions import within


def is_programme(principal: Principal) -> bool:
    return principal.org_type in PROGRAMME_TYPES


def in_region(principal: Principal, village_code: str) -> bool:
    return (
        principal.org_type in LOCAL_GOVERNMENT_TYPES
        and principal.region is not None
        and within(village_code, principal.region)
    )


def governs_resident(principal: Principal, village_code: str) -> bool:
    """Admin and agencies govern every resident, village and district governments their own."""
    return is_programme(principal) or in_region(principal, village_code)


def owns(principal: Principal, provider_org_id: str) -> bool:
    return principal.org_type in PROVIDER_TYPES and principal.org_id == provider_org_id


def require_resident_access(principal: Principal, village_code: str | None) -> None:
    if village_code is None or not governs_resident(principal, village_code):
        raise NotFound("no such resident")


def require_org_types(principal: Principal, allowed: frozenset[str], action: str) -> None:
    if principal.org_type not in allowed:
        raise Forbidden(f"organisations of type {principal.org_type} may not {action}")
