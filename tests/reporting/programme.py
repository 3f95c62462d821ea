"""A small fixture programme fed to the reporting service through real change feeds.

Three tiny producer apps serve ``/v1/changes`` with ``shared.kit.feed.changes_router`` over
outboxes filled with payloads shaped exactly as docs/contracts.md says, and a tiny gateway
issues the reporting service its client-credentials token. Every indicator of this programme
is computed by hand in the tests.

Residents (village, sex, age, education, decile, disability, target group, verified):
  r1 Tarjun    F 30 senior_secondary  2 -         target  verified 07-03  priority 1
  r2 Tarjun    M 22 junior_secondary  1 physical  target  verified 07-04  priority 2
  r3 Tarjun    F 45 primary           3 -         target  verified 08-10
  r4 Tarjun    M 70 none              2 -         (not productive age, not verified)
  r5 Serongga  F 35 senior_secondary  4 -         target  verified 07-05
  r6 Megasari  M 28 bachelor          6 -         (decile outside target) verified 07-06
  r7 Megasari  F 50 primary           1 -         target  verified 07-07, independent 10-20
  r8 Megasari  duplicate of r7, registered 07-02, merged into r7
Opportunities: o1 internship of company C1 in Tarjun, 5 slots; o2 business capital of BUMDes
B1 in Megasari, 3 slots, Rp 5,000,000; o3 job of C1 in Serongga, cancelled; o4 training of
NGO N1, a draft never opened.
Placements: p1 r1->o1 completed 10-01; p2 r2->o1 started, dropped 09-01; p3 r5->o1 declined;
p4 r7->o2 capital started 08-15, completed 09-30; p5 r3->o1 proposed 08-20.
Follow-ups: r1 on 10-15 by C1, r7 on 10-20 by B1.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from services.reporting.main import create_app
from services.reporting.readmodel.tasks import catch_up_all
from services.reporting.settings import ReportingSettings
from tests.support.feeds import FeedProducer
from tests.support.places import KELUMPANG_HILIR, MEGASARI, PULAU_LAUT_UTARA, SERONGGA, TARJUN  # noqa: F401 - this area's names
from tests.support.tokens import TestKeys, token_endpoint

C1, B1, N1 = (str(uuid.UUID(int=n)) for n in (101, 102, 103))


def uid(name: str) -> str:
    """Stable UUIDs for the fixture's names (r1, o2, p3 ...)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sinergi-test/{name}"))


def at(day: str) -> str:
    """Noon UTC (20:00 WITA) of a 2025 day: far from any day boundary."""
    return f"2025-{day}T12:00:00Z"


@dataclass
class Programme:
    registry: FeedProducer
    opportunities: FeedProducer
    matching: FeedProducer
    resident_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    placement_state: dict[str, dict[str, Any]] = field(default_factory=dict)

    # -- registry -------------------------------------------------------------------------------
    def resident(self, name: str, event: str, **changes: Any) -> None:
        state = self.resident_state.setdefault(name, {})
        state.update(changes)
        village = state["village_code"]
        payload = {
            "regency_code": "63.02",
            "district_code": village.rsplit(".", 1)[0],
            "birth_month": "1990-01",
            "skills": [],
            "employment_status": "unemployed",
            "household_size": 4,
            "disability": [],
            "productive_age": True,
            "in_target_group": True,
            "status": "registered",
            "priority_rank": None,
            "verified_at": None,
            "independent_at": None,
            "follow_up": None,
            **state,
        }
        if event != "follow_up":
            payload["follow_up"] = None
        self.registry.publish("resident", uid(name), event, payload)
        state.pop("follow_up", None)
        state.pop("merged_into", None)

    def register(
        self,
        name: str,
        village: str,
        sex: str,
        age: int,
        education: str,
        decile: int,
        day: str,
        **extra: Any,
    ) -> None:
        self.resident(
            name,
            "created",
            village_code=village,
            sex=sex,
            age=age,
            education_level=education,
            welfare_decile=decile,
            registered_at=at(day),
            **extra,
        )

    def verify(self, name: str, day: str) -> None:
        self.resident(name, "verified", status="verified", verified_at=at(day))

    def follow_up(self, name: str, day: str, income_per_member: int, organisation: str) -> None:
        follow_up = {
            "id": uid(f"follow-up/{name}/{day}"),
            "visited_on": f"2025-{day}",
            "employment_status": "employed",
            "monthly_income_idr": income_per_member * 4,
            "household_size": 4,
            "income_per_member_idr": income_per_member,
            "organisation_id": organisation,
        }
        self.resident(name, "follow_up", follow_up=follow_up)

    # -- catalogue ------------------------------------------------------------------------------
    def opportunity(
        self,
        name: str,
        event: str,
        provider: tuple[str, str],
        kind: str,
        village: str,
        slots: int,
        status: str,
        day: str,
        grant: int | None = None,
    ) -> None:
        payload = {
            "provider_org_id": provider[0],
            "provider_org_type": provider[1],
            "external_id": None,
            "kind": kind,
            "title": f"{kind} {name}",
            "occupation_code": None,
            "skills_required": [],
            "skills_taught": [],
            "min_age": 15,
            "max_age": 64,
            "min_education": None,
            "sex": None,
            "disability_friendly": True,
            "location_village_code": village,
            "eligible_area_codes": ["63.02"],
            "slots": slots,
            "pay_idr": None,
            "grant_amount_idr": grant,
            "start_date": "2025-09-01",
            "end_date": "2025-12-31",
            "valid_through": "2025-12-31",
            "status": status,
            "created_at": at(day),
            "updated_at": at(day),
        }
        self.opportunities.publish("opportunity", uid(name), event, payload)

    # -- matching -------------------------------------------------------------------------------
    def placement(self, name: str, event: str, **changes: Any) -> None:
        state = self.placement_state.setdefault(name, {})
        state.update(changes)
        payload = {
            "run_id": None,
            "grant_amount_idr": None,
            "proposed_at": None,
            "offered_at": None,
            "accepted_at": None,
            "started_at": None,
            "completed_at": None,
            "ended_at": None,
            **state,
            "status": event,
        }
        self.matching.publish("placement", uid(name), event, payload)

    def propose(
        self,
        name: str,
        resident: str,
        opportunity: str,
        provider: tuple[str, str],
        kind: str,
        village: str,
        day: str,
        grant: int | None = None,
    ) -> None:
        self.placement(
            name,
            "proposed",
            resident_id=uid(resident),
            opportunity_id=uid(opportunity),
            provider_org_id=provider[0],
            provider_org_type=provider[1],
            kind=kind,
            village_code=village,
            district_code=village.rsplit(".", 1)[0],
            grant_amount_idr=grant,
            proposed_at=at(day),
        )

    def step(self, name: str, event: str, day: str) -> None:
        field_name = {
            "offered": "offered_at",
            "accepted": "accepted_at",
            "started": "started_at",
            "completed": "completed_at",
        }.get(event, "ended_at")
        self.placement(name, event, **{field_name: at(day)})


COMPANY, BUMDES, NGO = (C1, "company"), (B1, "bumdes"), (N1, "ngo")


def fill(programme: Programme) -> None:
    """The programme of the module docstring, change by change."""
    p = programme
    p.register("r1", TARJUN, "F", 30, "senior_secondary", 2, "07-01", priority_rank=1)
    p.register(
        "r2",
        TARJUN,
        "M",
        22,
        "junior_secondary",
        1,
        "07-01",
        disability=["physical"],
        priority_rank=2,
    )
    p.register("r3", TARJUN, "F", 45, "primary", 3, "07-01")
    p.register(
        "r4", TARJUN, "M", 70, "none", 2, "07-01", productive_age=False, in_target_group=False
    )
    p.register("r5", SERONGGA, "F", 35, "senior_secondary", 4, "07-02")
    p.register("r6", MEGASARI, "M", 28, "bachelor", 6, "07-02", in_target_group=False)
    p.register("r7", MEGASARI, "F", 50, "primary", 1, "07-02")
    p.register("r8", MEGASARI, "F", 50, "primary", 1, "07-02")
    for name, day in (
        ("r1", "07-03"),
        ("r2", "07-04"),
        ("r5", "07-05"),
        ("r6", "07-06"),
        ("r7", "07-07"),
        ("r3", "08-10"),
    ):
        p.verify(name, day)
    p.resident("r8", "merged", status="merged", merged_into=uid("r7"))

    p.opportunity("o1", "created", COMPANY, "internship", TARJUN, 5, "open", "08-01")
    p.opportunity(
        "o2", "created", BUMDES, "business_capital", MEGASARI, 3, "open", "08-02", grant=5_000_000
    )
    p.opportunity("o3", "created", COMPANY, "job", SERONGGA, 2, "open", "08-03")
    p.opportunity("o3", "cancelled", COMPANY, "job", SERONGGA, 2, "cancelled", "08-03")
    p.opportunity("o4", "created", NGO, "training", MEGASARI, 10, "draft", "08-04")

    p.propose("p1", "r1", "o1", COMPANY, "internship", TARJUN, "08-05")
    p.propose("p2", "r2", "o1", COMPANY, "internship", TARJUN, "08-05")
    p.propose("p3", "r5", "o1", COMPANY, "internship", SERONGGA, "08-05")
    p.propose("p4", "r7", "o2", BUMDES, "business_capital", MEGASARI, "08-05", grant=5_000_000)
    for name in ("p1", "p2", "p3", "p4"):
        p.step(name, "offered", "08-06")
    p.step("p1", "accepted", "08-07")
    p.step("p2", "accepted", "08-08")
    p.step("p3", "declined", "08-07")
    p.step("p4", "accepted", "08-07")
    p.step("p1", "started", "08-10")
    p.step("p2", "started", "08-10")
    p.step("p4", "started", "08-15")
    p.propose("p5", "r3", "o1", COMPANY, "internship", TARJUN, "08-20")
    p.step("p2", "dropped", "09-01")
    p.step("p4", "completed", "09-30")
    p.step("p1", "completed", "10-01")

    p.follow_up("r1", "10-15", 400_000, C1)
    p.follow_up("r7", "10-20", 900_000, B1)
    p.resident("r7", "independent", status="independent", independent_at=at("10-20"))


@dataclass
class Stack:
    app: FastAPI
    client: httpx.AsyncClient
    programme: Programme
    settings: ReportingSettings
    transports: dict[str, httpx.AsyncBaseTransport]

    async def sync(self) -> int:
        return await catch_up_all(self.app)


def build_settings(url: str, **overrides: Any) -> ReportingSettings:
    return ReportingSettings(database_url=url, jwks_url="", feed_poll_seconds=0.05, **overrides)


def producers(workdir: Path, keys: TestKeys) -> Programme:
    # The producers stand in for the other services; only reporting's own database is under
    # test here, and it runs on both backends.
    return Programme(
        registry=FeedProducer(f"sqlite:///{workdir / 'registry.db'}", keys),
        opportunities=FeedProducer(f"sqlite:///{workdir / 'opportunities.db'}", keys),
        matching=FeedProducer(f"sqlite:///{workdir / 'matching.db'}", keys),
    )


def transports_for(
    programme: Programme, keys: TestKeys, settings: ReportingSettings
) -> dict[str, httpx.AsyncBaseTransport]:
    return {
        "registry": httpx.ASGITransport(app=programme.registry.app),
        "opportunities": httpx.ASGITransport(app=programme.opportunities.app),
        "matching": httpx.ASGITransport(app=programme.matching.app),
        "gateway": httpx.ASGITransport(
            app=token_endpoint(
                keys, "reporting-service", (settings.client_id, settings.client_secret)
            )
        ),
    }


def reporting_app(
    settings: ReportingSettings, keys: TestKeys, transports: dict[str, httpx.AsyncBaseTransport]
) -> FastAPI:
    return create_app(settings, verifier=keys.verifier(), transports=transports)


@contextlib.asynccontextmanager
async def running_stack(
    url: str, keys: TestKeys, workdir: Path, **overrides: Any
) -> AsyncIterator[Stack]:
    """The reporting service over ``url`` with the programme's producers, not yet filled."""
    settings = build_settings(url, **overrides)
    programme = producers(workdir, keys)
    transports = transports_for(programme, keys, settings)
    app = reporting_app(settings, keys, transports)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting") as client:
        yield Stack(app, client, programme, settings, transports)
    app.state.db.dispose()
    for producer in (programme.registry, programme.opportunities, programme.matching):
        producer.db.dispose()
