"""DESIGN.md's access matrix, cell by cell, through the gateway of the running stack.

Each row of the design's table is one or more endpoint families; each column one organisation
type (village and district governments, and the five provider types, each on their own). A
cell is tried on an object of the organisation's own (its region, its opportunity, a resident
disclosed to it) and on a foreign one, and must answer the status written below. Out-of-reach
objects answer 404, never 403 (contracts.md). A world of residents, offers and placements is
built once per backend, so every cell stands alone and may run in any order.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import httpx
import pytest

from deploy.pilot import data
from deploy.pilot.api import Credential, OrgClient, poll
from deploy.pilot.demo import wait_for_answer
from deploy.pilot.seed import admin_client
from tests.e2e.conftest import Pilot
from tests.support.people import nik_for
from tests.support.places import KOTABARU_HULU

OWN_VILLAGE = data.TARJUN  # in district 63.02.17
FOREIGN_VILLAGE = KOTABARU_HULU  # district 63.02.06
OWN_DISTRICT = data.KELUMPANG_HILIR
FOREIGN_DISTRICT = data.PULAULAUT_UTARA
PROVIDERS = ("company", "university", "school", "bumdes", "ngo")
LOCAL = ("village_government", "district_government")
ORG_TYPES = ("admin", "government_agency", *LOCAL, *PROVIDERS, "regional_agency")
ORG_KEYS = {
    "government_agency": data.MANPOWER_AGENCY,
    "village_government": data.village_key(OWN_VILLAGE),
    "company": data.CEMENT,
    "university": data.POLYTECHNIC,
    "school": data.VOCATIONAL_SCHOOL,
    "bumdes": data.BUMDES_TARJUN,
    "ngo": data.NGO,
    "regional_agency": data.PROVINCE,
}


Pair = int | tuple[int, int]


def _pair(value: Pair) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def row(
    admin: Pair,
    agency: Pair,
    local: Pair,
    provider: Pair,
    regional: Pair,
    *,
    targets: tuple[str, ...] = ("own", "foreign"),
) -> dict[tuple[str, str], int]:
    """One family's expected statuses: (org type, own|foreign) -> status. A pair is
    (own, foreign); a single status is the same for both. Families whose endpoint takes no
    object (a list, a round, a direct placement) have only the ``own`` target."""
    columns = {
        "admin": _pair(admin),
        "government_agency": _pair(agency),
        **{t: _pair(local) for t in LOCAL},
        **{t: _pair(provider) for t in PROVIDERS},
        "regional_agency": _pair(regional),
    }
    return {
        (org_type, target): statuses[index]
        for org_type, statuses in columns.items()
        for index, target in enumerate(("own", "foreign"))
        if target in targets
    }


ONLY_OWN = ("own",)
# DESIGN.md, "Identity and access": right -> endpoint families -> expected statuses, in the
# order admin | government agency | village & district government | provider | regional.
MATRIX: dict[str, dict[tuple[str, str], int]] = {
    # register, edit, verify residents: all | all | own region | no | no
    "residents.register": row(201, 201, (201, 422), 403, 403),
    "residents.edit": row(200, 200, (200, 404), 403, 403),
    "residents.verify": row(200, 200, (200, 404), 403, 403),
    # see NIK, name, contact: all | all | own region | residents disclosed to it | no
    "residents.read": row(200, 200, (200, 404), (200, 404), 403),
    "residents.list": row(200, 200, 200, 403, 403, targets=ONLY_OWN),
    # set village priority: yes | yes | own region | no | no
    "residents.priority": row(200, 200, (200, 404), 403, 403),
    # publish opportunities: all | own | own | own | no (local governments in their region)
    "opportunities.publish": row(201, 201, (201, 403), 201, 403),
    "opportunities.edit": row(200, (200, 403), (200, 403), (200, 403), 403),
    # run matching, place: yes | yes | no | no | no
    "matching.run": row(202, 202, 403, 403, 403, targets=ONLY_OWN),
    "placements.place": row(201, 201, 403, 403, 403, targets=ONLY_OWN),
    # accept/decline on a resident's behalf: yes | yes | own region | no | no
    "placements.respond": row(200, 200, (200, 404), 403, 403),
    # start, complete, drop a placement: yes | yes | no | own opportunities | no
    "placements.progress": row(200, 200, 403, (200, 404), 403),
    # read reports: all | all | own region | own opportunities | all, aggregated
    "reports.read": row(200, 200, (200, 404), 200, 200),
}
CELLS = [
    (family, org_type, target)
    for family, cells in MATRIX.items()
    for org_type in ORG_TYPES
    for target in ("own", "foreign")
    if (org_type, target) in cells
]


@dataclass
class World:
    """Organisations of every type and the objects the cells act on."""

    pilot: Pilot
    clients: dict[str, OrgClient] = field(default_factory=dict)
    org_ids: dict[str, str] = field(default_factory=dict)
    residents: dict[str, str] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    placements: dict[str, str] = field(default_factory=dict)
    serials: itertools.count[int] = field(default_factory=lambda: itertools.count(7000))

    @property
    def admin(self) -> OrgClient:
        return self.clients["admin"]

    @property
    def agency(self) -> OrgClient:
        return self.clients["government_agency"]

    def resident_body(self, village: str) -> dict[str, Any]:
        serial = next(self.serials)
        born = date(1995, 1 + serial % 12, 1 + serial % 28)
        return {
            "nik": nik_for("630217", born, "M", serial),
            "full_name": f"Warga Uji {serial}",
            "sex": "M",
            "birth_date": born.isoformat(),
            "village_code": village,
            "education_level": "senior_secondary",
            "welfare_decile": 2,
            "employment_status": "unemployed",
        }

    def new_resident(self, village: str) -> str:
        resident = self.admin.post("/v1/residents", json=self.resident_body(village), expect=201)
        self.admin.post(f"/v1/residents/{resident['id']}/verify")
        return str(resident["id"])

    def offer_body(self, village: str, title: str) -> dict[str, Any]:
        return {
            "kind": "job",
            "title": title,
            "location_village_code": village,
            "eligible_area_codes": [],
            "slots": 50,
            "start_date": data.TRIAL_START.isoformat(),
            "valid_through": data.applications_close(date.today()).isoformat(),
        }

    def place(self, resident: str, offer: str, *, accept: bool) -> str:
        placement = self.agency.post(
            "/v1/placements",
            json={
                "resident_id": self.residents[resident],
                "opportunity_id": self.offers[offer]["id"],
            },
            expect=201,
        )
        if accept:
            self.admin.post(f"/v1/placements/{placement['id']}/accept")
        return str(placement["id"])


def build_world(pilot: Pilot) -> World:
    world = World(pilot)
    credentials = pilot.credentials
    world.clients["admin"] = admin_client(pilot.gateway)
    world.org_ids["admin"] = credentials.org(data.SECRETARIAT).id
    for org_type, key in ORG_KEYS.items():
        world.clients[org_type] = credentials.client(pilot.gateway, key)
        world.org_ids[org_type] = credentials.org(key).id
    # The seed has no district government; the secretariat registers one for the matrix.
    district = world.admin.post(
        "/v1/organisations",
        json={
            "name": "Pemerintah Kecamatan Kelumpang Hilir",
            "type": "district_government",
            "region_code": OWN_DISTRICT,
        },
        expect=(200, 201),
    )
    issued = world.admin.post(f"/v1/organisations/{district['id']}/clients", expect=201)
    world.clients["district_government"] = pilot.gateway.client(
        Credential(issued["client_id"], issued["client_secret"]), "district government"
    )
    world.org_ids["district_government"] = district["id"]

    names = {"own": OWN_VILLAGE, "foreign": FOREIGN_VILLAGE}
    for name, village in names.items():
        world.residents[name] = world.new_resident(village)
    layout = {
        "respond.admin": OWN_VILLAGE,
        "respond.government_agency": OWN_VILLAGE,
        "respond.village_government": OWN_VILLAGE,
        "respond.district_government": OWN_VILLAGE,
        "respond.foreign": FOREIGN_VILLAGE,
        "progress.admin": FOREIGN_VILLAGE,
        "progress.government_agency": FOREIGN_VILLAGE,
        "place.admin": FOREIGN_VILLAGE,
        "place.government_agency": FOREIGN_VILLAGE,
        **{f"provider.{p}": OWN_VILLAGE for p in PROVIDERS},
    }
    for name, village in layout.items():
        world.residents[name] = world.new_resident(village)

    # Each publisher's own offer; the manpower agency's is the one most placements use.
    for org_type in ("admin", "government_agency", *LOCAL, *PROVIDERS):
        world.offers[org_type] = world.clients[org_type].put(
            f"/v1/opportunities/external/MATRIX-{org_type}",
            json=world.offer_body(OWN_VILLAGE, f"Matrix offer of the {org_type}"),
            expect=201,
        )
    # The matching read model must know them all before anyone is placed.
    last_resident = world.residents[list(layout)[-1]]
    for offer in world.offers.values():
        poll("the matching read model", partial(_eligible, world, last_resident, offer["id"]))

    for name in ("respond.admin", "respond.government_agency", *[f"respond.{t}" for t in LOCAL]):
        world.placements[name] = world.place(name, "government_agency", accept=False)
    world.placements["respond.foreign"] = world.place(
        "respond.foreign", "government_agency", accept=False
    )
    for name in ("progress.admin", "progress.government_agency"):
        world.placements[name] = world.place(name, "government_agency", accept=True)
    for provider in PROVIDERS:
        world.placements[f"provider.{provider}"] = world.place(
            f"provider.{provider}", provider, accept=True
        )
    # Accepting recorded each resident's consent; the registry learns of it from matching.
    # The last first: matching delivers consents in order, and a read while the registry
    # still writes other disclosures can fail on SQLite (reported with this issue).
    for provider in reversed(PROVIDERS):
        resident = world.residents[f"provider.{provider}"]
        reader = world.clients[provider]
        wait_for_answer("the disclosure", partial(reader.get, f"/v1/residents/{resident}"))
    return world


def _eligible(world: World, resident: str, opportunity: str) -> bool | None:
    response = world.admin.request(
        "GET",
        "/v1/matching/explain",
        params={"resident_id": resident, "opportunity_id": opportunity},
        expect=(200, 404),
    )
    return True if response.status_code == 200 and response.json()["eligible"] else None


@pytest.fixture(scope="session")
def world(pilot: Pilot) -> World:
    return build_world(pilot)


# The cells ---------------------------------------------------------------------------------

Action = Callable[[World, str, str], httpx.Response]


def _client(world: World, org_type: str) -> OrgClient:
    return world.clients[org_type]


def _any(world: World, org_type: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The call, whatever it answers: the cell compares the status."""
    return world.clients[org_type].request(method, path, expect=range(100, 600), **kwargs)


def _on_resident(
    world: World, org_type: str, target: str, method: str, suffix: str = "", **kwargs: Any
) -> httpx.Response:
    """The call on the target's resident (``suffix`` after the resident's path)."""
    path = f"/v1/residents/{world.residents[target]}{suffix}"
    return _any(world, org_type, method, path, **kwargs)


def _village_for(target: str) -> str:
    return OWN_VILLAGE if target == "own" else FOREIGN_VILLAGE


def register(world: World, org_type: str, target: str) -> httpx.Response:
    body = world.resident_body(_village_for(target))
    return _any(world, org_type, "POST", "/v1/residents", json=body)


def edit(world: World, org_type: str, target: str) -> httpx.Response:
    etag = world.admin.request("GET", f"/v1/residents/{world.residents[target]}").headers["ETag"]
    income = {"monthly_income_idr": 100_000 + next(world.serials)}
    return _on_resident(world, org_type, target, "PATCH", json=income, headers={"If-Match": etag})


def verify(world: World, org_type: str, target: str) -> httpx.Response:
    return _on_resident(world, org_type, target, "POST", "/verify")


def read(world: World, org_type: str, target: str) -> httpx.Response:
    if org_type in PROVIDERS:
        # Own: the resident who accepted a placement with this provider; foreign: another's.
        other = PROVIDERS[(PROVIDERS.index(org_type) + 1) % len(PROVIDERS)]
        resident = world.residents[f"provider.{org_type if target == 'own' else other}"]
    else:
        resident = world.residents[target]
    response = _any(world, org_type, "GET", f"/v1/residents/{resident}")
    if response.status_code == 200:
        assert response.json()["nik"], "an allowed read shows the NIK"
        audit = world.admin.get(
            "/v1/audit", params={"resident_id": resident, "org_id": world.org_ids[org_type]}
        )
        assert audit["items"], f"the read of {org_type} was not audited"
    return response


def list_residents(world: World, org_type: str, target: str) -> httpx.Response:
    response = _any(world, org_type, "GET", "/v1/residents", params={"limit": 100})
    if response.status_code == 200 and org_type in LOCAL:
        region = OWN_VILLAGE if org_type == "village_government" else OWN_DISTRICT
        codes = {r["village_code"] for r in response.json()["items"]}
        assert codes and all(c.startswith(region) for c in codes), "only its own region"
    return response


def priority(world: World, org_type: str, target: str) -> httpx.Response:
    rank = {"rank": 50_000 + next(world.serials)}
    return _on_resident(world, org_type, target, "PUT", "/priority", json=rank)


def publish(world: World, org_type: str, target: str) -> httpx.Response:
    body = world.offer_body(_village_for(target), f"Matrix {target} offer of the {org_type}")
    return _any(
        world, org_type, "PUT", f"/v1/opportunities/external/MATRIX-PUB-{target}", json=body
    )


def edit_offer(world: World, org_type: str, target: str) -> httpx.Response:
    if target == "own" and org_type in world.offers:
        offer = world.offers[org_type]
    else:
        # Someone else's offer: the manpower agency's, or the cement company's for the agency.
        owner = "company" if org_type == "government_agency" else "government_agency"
        offer = world.offers[owner]
    current = _client(world, org_type).request(
        "GET", f"/v1/opportunities/{offer['id']}", expect=200
    )
    return _any(
        world,
        org_type,
        "PATCH",
        f"/v1/opportunities/{offer['id']}",
        json={"description": f"edited by the {org_type}"},
        headers={"If-Match": current.headers["ETag"]},
    )


def run_matching(world: World, org_type: str, target: str) -> httpx.Response:
    body = {"district_codes": [OWN_DISTRICT], "kinds": ["job"], "dry_run": True}
    return _any(world, org_type, "POST", "/v1/matching/runs", json=body)


def place(world: World, org_type: str, target: str) -> httpx.Response:
    resident = world.residents.get(f"place.{org_type}", world.residents["own"])
    body = {"resident_id": resident, "opportunity_id": world.offers["government_agency"]["id"]}
    return _any(world, org_type, "POST", "/v1/placements", json=body)


def respond(world: World, org_type: str, target: str) -> httpx.Response:
    own = f"respond.{org_type}"
    name = own if target == "own" and own in world.placements else "respond.foreign"
    return _any(world, org_type, "POST", f"/v1/placements/{world.placements[name]}/accept")


def progress(world: World, org_type: str, target: str) -> httpx.Response:
    if org_type in PROVIDERS:
        other = PROVIDERS[(PROVIDERS.index(org_type) + 1) % len(PROVIDERS)]
        name = f"provider.{org_type if target == 'own' else other}"
    elif org_type in ("admin", "government_agency"):
        name = f"progress.{org_type}" if target == "own" else "provider.ngo"
    else:
        name = "progress.admin"
    return _any(world, org_type, "POST", f"/v1/placements/{world.placements[name]}/start")


def read_reports(world: World, org_type: str, target: str) -> httpx.Response:
    if org_type == "village_government":
        params = {"village_code": _village_for(target)}
    else:
        params = {"district_code": OWN_DISTRICT if target == "own" else FOREIGN_DISTRICT}
    response = _any(world, org_type, "GET", "/v1/reports/summary", params=params)
    if response.status_code == 200:
        summary = response.json()
        if org_type in PROVIDERS:
            assert summary["provider_org_id"] == world.org_ids[org_type], "its own numbers"
            residents = summary["residents"]
            assert residents is None or residents["registered"] is None, "no resident counts"
        if org_type == "regional_agency":
            assert summary["suppressed_below"], "small cells suppressed"
    return response


ACTIONS: dict[str, Action] = {
    "residents.register": register,
    "residents.edit": edit,
    "residents.verify": verify,
    "residents.read": read,
    "residents.list": list_residents,
    "residents.priority": priority,
    "opportunities.publish": publish,
    "opportunities.edit": edit_offer,
    "matching.run": run_matching,
    "placements.place": place,
    "placements.respond": respond,
    "placements.progress": progress,
    "reports.read": read_reports,
}


def test_every_family_of_the_matrix_has_an_action() -> None:
    assert set(ACTIONS) == set(MATRIX)
    assert {org_type for _, org_type, _ in CELLS} == set(ORG_TYPES)


@pytest.mark.parametrize(("family", "org_type", "target"), CELLS)
def test_access_matrix(world: World, family: str, org_type: str, target: str) -> None:
    expected = MATRIX[family][org_type, target]
    response = ACTIONS[family](world, org_type, target)
    assert response.status_code == expected, (
        f"{org_type} {family} on a {target} object: {response.status_code} {response.text[:300]}"
    )
    if expected in (403, 404):
        assert response.headers["content-type"].startswith("application/problem+json")


def test_out_of_reach_is_not_found_never_forbidden(world: World) -> None:
    """A village probing a resident id of another village learns nothing from the status."""
    village = world.clients["village_government"]
    unknown = village.request(
        "GET", "/v1/residents/00000000-0000-4000-8000-000000000000", expect=404
    )
    foreign = village.request("GET", f"/v1/residents/{world.residents['foreign']}", expect=404)
    assert unknown.json()["title"] == foreign.json()["title"]
