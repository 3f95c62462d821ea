"""Who may publish, see and edit which opportunity (DESIGN.md's access matrix).

Scopes say what an organisation may do at all; these functions decide it row by row.
"""

from __future__ import annotations

from services.opportunities.catalogue.models import Opportunity
from shared.kit.problems import Forbidden
from shared.kit.tokens import Principal
from shared.programme import regions
from shared.programme.organisations import (
    LOCAL_GOVERNMENT_TYPES,
    PROGRAMME_TYPES,
    PROVIDER_TYPES,
)

PUBLISHER_TYPES = PROGRAMME_TYPES | LOCAL_GOVERNMENT_TYPES | PROVIDER_TYPES


def is_admin(principal: Principal) -> bool:
    return principal.org_type == "admin"


def require_publisher(principal: Principal) -> None:
    # The scope alone is not enough: a regional agency or a service reads only, whatever
    # scopes a misconfigured client might carry.
    if principal.org_type not in PUBLISHER_TYPES:
        raise Forbidden(f"a {principal.org_type} organisation reads opportunities only")
    if principal.org_type in LOCAL_GOVERNMENT_TYPES and not principal.region:
        raise Forbidden("a local government token must name the region it governs")


def can_see(principal: Principal, row: Opportunity) -> bool:
    """Drafts belong to their owner (and the admin); everything else is public to members."""
    return row.status != "draft" or owns(principal, row) or is_admin(principal)


def owns(principal: Principal, row: Opportunity) -> bool:
    return row.provider_org_id == principal.org_id


def require_editor(principal: Principal, row: Opportunity) -> None:
    if not (owns(principal, row) or is_admin(principal)):
        raise Forbidden("only the organisation that published this opportunity may change it")


def region_violations(
    principal: Principal, location_village_code: str | None, eligible_area_codes: list[str]
) -> list[tuple[str, str]]:
    """A village or district government publishes for the region it governs only."""
    if principal.org_type not in LOCAL_GOVERNMENT_TYPES or principal.region is None:
        return []
    region = principal.region
    errors: list[tuple[str, str]] = []
    if location_village_code is None:
        errors.append(("location_village_code", f"required, a village within {region}"))
    elif not regions.within(location_village_code, region):
        errors.append(("location_village_code", f"outside the region you govern ({region})"))
    for index, code in enumerate(eligible_area_codes):
        if not regions.within(code, region):
            errors.append(
                (f"eligible_area_codes.{index}", f"outside the region you govern ({region})")
            )
    return errors
