"""The scopes each organisation type may hold: DESIGN.md's access matrix as data (the types
themselves are in ``shared.programme.organisations``).

The gateway issues tokens with these default scopes; every service checks the scope and then
the organisation's rights on each row (own region, own opportunities, disclosed residents).
"""

from __future__ import annotations

from shared.kit.feed import CHANGES_READ

RESIDENTS_READ = "residents:read"
RESIDENTS_WRITE = "residents:write"
RESIDENTS_VERIFY = "residents:verify"
RESIDENTS_PRIORITY = "residents:priority"
RESIDENTS_IMPORT = "residents:import"
RESIDENTS_FOLLOW_UP = "residents:follow-up"
RESIDENTS_ERASE = "residents:erase"
RESIDENTS_DISCLOSE = "residents:disclose"
AUDIT_READ = "audit:read"
OPPORTUNITIES_READ = "opportunities:read"
OPPORTUNITIES_WRITE = "opportunities:write"
MATCHING_RUN = "matching:run"
MATCHING_READ = "matching:read"
PLACEMENTS_READ = "placements:read"
PLACEMENTS_WRITE = "placements:write"
PLACEMENTS_RESPOND = "placements:respond"
PLACEMENTS_PROGRESS = "placements:progress"
# The registry's own client answering an offer for the resident who replied by SMS (issue 20):
# the resident's own decision, never an organisation's acting for them.
PLACEMENTS_RESIDENT_DECISION = "placements:resident-decision"
GRIEVANCES = "grievances"
REPORTS_READ = "reports:read"
PROGRAM_WRITE = "program:write"
ORGANISATIONS_ADMIN = "organisations:admin"

_REGISTRY_EDIT = {
    RESIDENTS_READ,
    RESIDENTS_WRITE,
    RESIDENTS_VERIFY,
    RESIDENTS_PRIORITY,
    RESIDENTS_IMPORT,
    RESIDENTS_FOLLOW_UP,
    GRIEVANCES,
}
_PROVIDER = {
    GRIEVANCES,  # complaints about its own placements
    RESIDENTS_READ,  # rows limited to residents disclosed to the provider
    RESIDENTS_FOLLOW_UP,  # of residents disclosed to it
    OPPORTUNITIES_READ,
    OPPORTUNITIES_WRITE,
    MATCHING_READ,
    PLACEMENTS_READ,
    PLACEMENTS_PROGRESS,
    REPORTS_READ,
}

# What the agency running the programme does beyond the registry; the admin holds it too.
_PROGRAMME_RUN = {
    OPPORTUNITIES_READ,
    OPPORTUNITIES_WRITE,
    MATCHING_RUN,
    MATCHING_READ,
    PLACEMENTS_READ,
    PLACEMENTS_WRITE,
    PLACEMENTS_RESPOND,
    PLACEMENTS_PROGRESS,
    REPORTS_READ,
}

DEFAULT_SCOPES: dict[str, frozenset[str]] = {
    "admin": frozenset(
        _REGISTRY_EDIT
        | _PROGRAMME_RUN
        | {RESIDENTS_ERASE, AUDIT_READ, PROGRAM_WRITE, ORGANISATIONS_ADMIN}
    ),
    "government_agency": frozenset(_REGISTRY_EDIT | _PROGRAMME_RUN),
    "village_government": frozenset(
        _REGISTRY_EDIT
        | {
            OPPORTUNITIES_READ,
            OPPORTUNITIES_WRITE,
            MATCHING_READ,
            PLACEMENTS_READ,
            PLACEMENTS_RESPOND,
            REPORTS_READ,
        }
    ),
    "company": frozenset(_PROVIDER),
    "university": frozenset(_PROVIDER),
    "school": frozenset(_PROVIDER),
    "bumdes": frozenset(_PROVIDER),
    "ngo": frozenset(_PROVIDER),
    "regional_agency": frozenset({OPPORTUNITIES_READ, REPORTS_READ}),
}
DEFAULT_SCOPES["district_government"] = DEFAULT_SCOPES["village_government"]

# Internal service clients hold what their service calls for, no more: only matching records
# disclosures (it alone knows a resident accepted a placement), reporting only reads feeds.
# Keyed by the client id the gateway bootstraps from GATEWAY_SERVICE_CLIENTS; any other client
# of a ``service`` organisation (one the admin issued, a renamed one) gets no scope at all.
SERVICE_CLIENT_SCOPES: dict[str, frozenset[str]] = {
    "matching-service": frozenset({CHANGES_READ, RESIDENTS_DISCLOSE}),
    "reporting-service": frozenset({CHANGES_READ}),
    # Reads matching's placement feed (the visit plan, residents' notifications) and relays
    # residents' own YA/TIDAK to matching.
    "registry-service": frozenset({CHANGES_READ, PLACEMENTS_RESIDENT_DECISION}),
}
# The most any service token may carry: what a service checks a ``service`` caller against.
DEFAULT_SCOPES["service"] = frozenset().union(*SERVICE_CLIENT_SCOPES.values())

ALL_SCOPES: frozenset[str] = frozenset().union(*DEFAULT_SCOPES.values())


def default_scopes(org_type: str) -> frozenset[str]:
    return DEFAULT_SCOPES.get(org_type, frozenset())


def client_scopes(org_type: str, client_id: str | None) -> frozenset[str]:
    """The scopes a token may carry: a ``service`` client's row of SERVICE_CLIENT_SCOPES (none
    for a client not in it, nor for a staff user of a service organisation), else the type's
    defaults."""
    if org_type == "service":
        return SERVICE_CLIENT_SCOPES.get(client_id or "", frozenset())
    return default_scopes(org_type)
