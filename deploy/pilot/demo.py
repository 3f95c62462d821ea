"""``make demo``: the Kotabaru pilot's story, told through the gateway in numbered steps.

    python -m deploy.pilot.demo [--gateway URL] [--credentials var/demo-credentials.json]

It needs a running, seeded stack (``make run`` seeds it) and acts as the organisations of the
credentials file, each with its own token. Every answer is checked: anything unexpected stops
the story with the step, the call and the problem's detail, and a non-zero exit status. Waits
for the matching and reporting read models (which follow change feeds) poll with a bound.

Each run is a new chapter: its residents, NIKs and the HR system's references carry the run's
number (found from what earlier runs left in the catalogue), so the story can be told again on
the same stack. The end-to-end tests run the same :class:`Story` and assert on what it records.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from deploy.pilot import data
from deploy.pilot.api import Credential, Gateway, OrgClient, UnexpectedAnswer, poll
from deploy.pilot.seed import (
    PilotCredentials,
    ProductionRefused,
    admin_client,
    default_credentials_path,
    load_credentials,
    refuse_production,
    upload_import,
)
from shared.programme.regions import get_region
from tests.support.people import nik_for

DEMO_PREFIX = "HRIS-STS-DEMO-"
KOTABARU_HULU = "63.02.06.1001"
ROUND_KINDS = ["internship"]
FEED_TIMEOUT_SECONDS = 60.0
RUN_TIMEOUT_SECONDS = 120.0
SEED_WAIT_SECONDS = 120.0


class StoryFailed(RuntimeError):
    """The stack answered correctly, but not what the programme's rules say should happen."""


def mask(nik: str) -> str:
    """A NIK as the demo prints it: the issuing district and the serial, never the birth date."""
    return f"{nik[:6]}******{nik[-4:]}"


def today_utc() -> date:
    return datetime.now(UTC).date()


def wait_for_answer(
    what: str, call: Callable[[], Any], *, timeout: float = FEED_TIMEOUT_SECONDS
) -> Any:
    """``call()`` until it stops answering 404: a feed has brought the object to a read model."""

    def probe() -> Any:
        try:
            return call()
        except UnexpectedAnswer as exc:
            if exc.status_code == 404:
                return None
            raise

    return poll(what, probe, timeout=timeout)


def demo_name(sex: str, index: int) -> str:
    if sex == "F":
        return f"{data.FEMALE_NAMES[index]} {data.SECOND_NAMES_FEMALE[index]}"
    return f"{data.MALE_NAMES[index]} {data.SECOND_NAMES_MALE[index]}"


def demo_nik(run: int, index: int, sex: str, born: date, base: int) -> str:
    # Serials 8000-9999 are never used by the seed (its serials stay below 10 per prefix).
    return nik_for("630217", born, sex, base + (run % 99) * 10 + index)


@dataclass
class Story:
    gateway: Gateway
    credentials: PilotCredentials
    say: Callable[[str], None] = print
    feed_timeout: float = FEED_TIMEOUT_SECONDS

    run: int = 0
    registered: list[dict[str, Any]] = field(default_factory=list)
    ranks: list[int] = field(default_factory=list)
    typo_status: int = 0
    import_report: dict[str, Any] = field(default_factory=dict)
    other_village_resident: str = ""
    pushes: list[dict[str, Any]] = field(default_factory=list)
    internships: dict[str, dict[str, Any]] = field(default_factory=dict)
    matching_run: dict[str, Any] = field(default_factory=dict)
    proposals: list[dict[str, Any]] = field(default_factory=list)
    explanation: dict[str, Any] = field(default_factory=dict)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    disclosed_name: str = ""
    completed: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    new_visits: int = 0
    grant: dict[str, Any] = field(default_factory=dict)
    refusals: dict[str, dict[str, Any]] = field(default_factory=dict)
    baseline: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    villages: list[dict[str, Any]] = field(default_factory=list)
    cohort: dict[str, Any] = field(default_factory=dict)
    # The reporting service's cohort report of the cohort: its funnel per district.
    cohort_report: dict[str, Any] = field(default_factory=dict)
    graduated: list[str] = field(default_factory=list)
    targeting: list[dict[str, Any]] = field(default_factory=list)

    # Who acts -----------------------------------------------------------------------------

    def client(self, key: str) -> OrgClient:
        return self.credentials.client(self.gateway, key)

    @property
    def admin(self) -> OrgClient:
        return admin_client(self.gateway)

    @property
    def social(self) -> OrgClient:
        return self.client(data.SOCIAL_AGENCY)

    @property
    def manpower(self) -> OrgClient:
        return self.client(data.MANPOWER_AGENCY)

    @property
    def cement(self) -> OrgClient:
        return self.client(data.CEMENT)

    def village(self, code: str) -> OrgClient:
        return self.client(data.village_key(code))

    def tarjun_operator(self) -> OrgClient:
        """The Tarjun village operator logs in with a password (the password grant) when the
        seed made that staff user, else the village acts by its client credentials."""
        for user in self.credentials.staff_users:
            if user.organisation == data.village_key(data.TARJUN):
                credential = Credential(user.username, user.password, staff=True)
                return self.gateway.client(credential, f"{user.username} (Desa Tarjun)")
        return self.village(data.TARJUN)

    # The story ----------------------------------------------------------------------------

    def steps(self) -> list[tuple[str, Callable[[], None]]]:
        return [
            ("A village registers and prioritises residents", self.village_registers),
            ("An agency enrols them in the 2025 cohort", self.cohort_enrols),
            ("An agency imports the national register, with a few bad rows", self.agency_imports),
            ("The cement company's HR system pushes internships twice", self.hr_system_pushes),
            ("The manpower agency runs a matching round", self.matching_round),
            ("Residents accept their internships", self.residents_accept),
            ("The company starts and completes the internships", self.company_progresses),
            ("A facilitator records follow-up visits", self.facilitator_follows_up),
            ("A resident receives business capital", self.capital_grant),
            ("Three refusals", self.refusals_step),
            (
                "The programme's own goal: a priority list, a plan, graduation",
                self.cohort_graduates,
            ),
            ("The final report of Kelumpang Hilir", self.final_report),
        ]

    def tell(self) -> None:
        self.prepare()
        for number, (title, step) in enumerate(self.steps(), start=1):
            self.say("")
            self.say(f"{number}. {title}")
            try:
                step()
            except (UnexpectedAnswer, StoryFailed, TimeoutError) as exc:
                raise StoryFailed(f"step {number} ({title}): {exc}") from exc

    def line(self, text: str) -> None:
        self.say(f"   {text}")

    def prepare(self) -> None:
        refs = [
            o["external_id"] or ""
            for o in self.cement.pages(
                "/v1/opportunities",
                params={"provider_org_id": self.credentials.org(data.CEMENT).id},
            )
        ]
        earlier = [
            int(r[len(DEMO_PREFIX) :].split("-")[0]) for r in refs if r.startswith(DEMO_PREFIX)
        ]
        self.run = max(earlier, default=0) + 1
        self.baseline = self.district_summary()
        self.say(
            f"The Kotabaru pilot through {self.gateway.base_url}: chapter {self.run} of the story"
        )

    def district_summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = self.admin.get(
            "/v1/reports/summary", params={"district_code": data.KELUMPANG_HILIR}
        )
        return summary

    # 1 ------------------------------------------------------------------------------------

    def village_registers(self) -> None:
        operator = self.tarjun_operator()
        self.line(f"{operator.who} logs in and registers young job seekers of Tarjun.")
        people = [
            ("Rahmat Hidayat", "M", date(2003, 4, 12), ["bagging-and-packing", "teamwork"]),
            ("Nurul Hasanah", "F", date(2004, 9, 3), ["computer-basics", "data-entry"]),
            ("Fahrul Ramadhan", "M", date(2002, 1, 25), ["conveyor-maintenance"]),
        ]
        card = f"630217010125{9000 + (self.run % 99) * 10:04d}"
        bodies: list[dict[str, Any]] = []
        for index, (name, sex, born, skills) in enumerate(people, start=1):
            born = born.replace(day=min(28, born.day + self.run % 7))
            bodies.append(
                {
                    "nik": demo_nik(self.run, index, sex, born, 9000),
                    "family_card_number": card,
                    "full_name": name,
                    "sex": sex,
                    "birth_date": born.isoformat(),
                    "village_code": data.TARJUN,
                    "address": "RT 004 RW 002, Desa Tarjun",
                    "education_level": "senior_secondary",
                    "skills": skills,
                    "employment_status": "unemployed",
                    "monthly_income_idr": 0,
                    "household_size": 5,
                    "welfare_decile": 1,
                    "consent": {"given": True, "purpose": data.CONSENT_PURPOSE},
                }
            )
        # A typing slip first: the woman's NIK without 40 added to the day.
        slip = dict(
            bodies[1],
            nik=demo_nik(self.run, 9, "M", date.fromisoformat(bodies[1]["birth_date"]), 9000),
        )
        response = operator.request("POST", "/v1/residents", json=slip, expect=422)
        self.typo_status = response.status_code
        detail = response.json()["detail"]
        self.line(f"A typing slip in a NIK is refused ({response.status_code}): {detail}")
        for body in bodies:
            response = operator.request("POST", "/v1/residents", json=body, expect=(201, 409))
            if response.status_code == 409:
                resident = operator.get(f"/v1/residents/{response.json()['existing_resident_id']}")
            else:
                resident = response.json()
            resident = operator.post(f"/v1/residents/{resident['id']}/verify")
            self.registered.append(resident)
            self.line(
                f"registered and verified {resident['full_name']} (NIK {mask(resident['nik'])}), "
                f"age {resident['age']}, decile {resident['welfare_decile']}"
            )
        ranked = [
            r["priority_rank"]
            for r in operator.pages(
                "/v1/residents", params={"village_code": data.TARJUN, "has_priority": "true"}
            )
            if r["id"] not in {x["id"] for x in self.registered}
        ]
        rank = max(ranked, default=0)
        for resident in self.registered:
            rank += 1
            operator.put(f"/v1/residents/{resident['id']}/priority", json={"rank": rank})
            self.ranks.append(rank)
        self.line(
            f"Tarjun's priority list now ranks them {', '.join(map(str, self.ranks))} "
            f"(after the {len(ranked)} residents the village ranked before)."
        )

    def cohort_enrols(self) -> None:
        cohort = {
            "code": COHORT_CODE,
            "name": "Kotabaru pilot 2025",
            "year": 2025,
            "enrolment_opens": "2025-08-01",
            "enrolment_closes": "2025-10-31",
        }
        self.social.request("POST", "/v1/cohorts", json=cohort, expect=(200, 201))
        ids = [resident["id"] for resident in self.registered]
        enrolled = self.social.post(
            f"/v1/cohorts/{COHORT_CODE}/enrolments",
            json={"resident_ids": ids, "enrolled_on": "2025-08-20"},
        )
        baseline = self.social.get(f"/v1/residents/{ids[0]}/enrolments")["items"][0]
        # The pilot's targets are the 2025 cohort's: the cohort report measures against them
        # (the districts' standing targets stay what the summary compares with).
        self.admin.put(
            "/v1/program/targets",
            json={"targets": [{**target, "cohort": COHORT_CODE} for target in data.TARGETS]},
        )
        self.line(
            f"Dinas Sosial enrols the {len(enrolled['enrolled'])} residents in cohort "
            f"{COHORT_CODE}: "
            f"baseline frozen on {baseline['baseline']['baseline_on']} at decile "
            f"{baseline['baseline']['welfare_decile']}, Rp "
            f"{baseline['baseline']['income_per_member_idr'] or 0:,} per household member."
        )

    # 2 ------------------------------------------------------------------------------------

    def agency_imports(self) -> None:
        rows = self.register_extract()
        self.line(
            f"Dinas Sosial uploads an extract of the national register: {len(rows)} rows, "
            "three of them damaged."
        )
        report = upload_import(
            self.social,
            "dtsen-update.csv",
            data.import_file(rows),
            what="the import",
            timeout=self.feed_timeout,
        )
        self.import_report = report
        applied = report["created"] + report["updated"] + report["unchanged"]
        self.line(
            f"Row report: {report['created']} created, {report['updated']} updated, "
            f"{report['unchanged']} unchanged, {report['rejected']} rejected."
        )
        for rejection in report["rejections"]:
            self.line(f"  row {rejection['row']}, {rejection['column']}: {rejection['message']}")
        if report["status"] != "done" or applied != len(rows) - 3 or report["rejected"] != 3:
            raise StoryFailed(f"expected {len(rows) - 3} rows applied and 3 rejected: {report}")
        hulu = self.social.get("/v1/residents", params={"village_code": KOTABARU_HULU, "limit": 1})[
            "items"
        ]
        self.other_village_resident = hulu[0]["id"]

    def register_extract(self) -> list[dict[str, str]]:
        villages = [
            "63.02.17.2001",
            "63.02.17.2003",
            "63.02.17.2006",
            "63.02.06.2010",
            KOTABARU_HULU,
        ]
        rows = []
        for index in range(8):
            sex = "F" if index % 2 else "M"
            born = date(1990 + index, 1 + (self.run + index) % 12, 1 + index)
            village = villages[index % len(villages)]
            rows.append(
                {
                    "nik": demo_nik(self.run, index, sex, born, 8000),
                    "family_card_number": f"630217020225{8000 + (self.run % 99) * 10 + index:04d}",
                    "full_name": demo_name(sex, index),
                    "sex": sex,
                    "birth_date": born.isoformat(),
                    "village_code": village,
                    "address": "",
                    "phone": "",
                    "education_level": "junior_secondary",
                    "skills": "fish-drying;retail-sales" if index % 3 == 0 else "palm-harvesting",
                    "employment_status": "informal",
                    "monthly_income_idr": "750000",
                    "household_size": "4",
                    "welfare_decile": str(1 + index % 4),
                    "disability": "physical" if index == 5 else "",
                    "consent_given": "true",
                    "consent_purpose": data.CONSENT_PURPOSE,
                    "consent_at": "",
                }
            )
        good = rows[0]
        # Damaged rows, as real extracts have them: a birth date that contradicts the NIK, a
        # village code that does not exist, a decile outside 1-10.
        damaged: list[tuple[int, str, date, dict[str, str]]] = [
            (8, "M", date(1985, 5, 5), {"birth_date": "1985-05-06"}),
            (
                9,
                "M",
                date(1986, 6, 6),
                {"birth_date": "1986-06-06", "village_code": "63.02.17.2099"},
            ),
            (
                9,
                "F",
                date(1987, 7, 7),
                {"birth_date": "1987-07-07", "sex": "F", "welfare_decile": "12"},
            ),
        ]
        for index, sex, born, changes in damaged:
            rows.append(dict(good, nik=demo_nik(self.run, index, sex, born, 8000), **changes))
        return rows

    # 3 ------------------------------------------------------------------------------------

    def hr_system_pushes(self) -> None:
        close = data.applications_close(today_utc())
        items = [
            {
                "external_id": f"{DEMO_PREFIX}{self.run:02d}-M{index}",
                "kind": "internship",
                "title": title,
                "description": "Three-month internship at the Tarjun plant, stipend paid monthly.",
                "skills_taught": [skill, "occupational-health-safety"],
                "min_age": 18,
                "max_age": 30,
                "min_education": "junior_secondary",
                "location_village_code": data.TARJUN,
                "eligible_area_codes": [data.KELUMPANG_HILIR],
                "slots": 2,
                "pay_idr": 1_750_000,
                "start_date": data.TRIAL_START.isoformat(),
                "valid_through": close.isoformat(),
            }
            for index, (title, skill) in enumerate(
                [
                    ("Magang operator packer", "bagging-and-packing"),
                    ("Magang teknisi konveyor", "conveyor-maintenance"),
                    ("Magang laboratorium mutu", "cement-quality-control"),
                ],
                start=1,
            )
        ]
        for attempt in ("first push", "the same push again (a retry after a timeout)"):
            answer = self.cement.post("/v1/opportunities/batch", json={"items": items})
            self.pushes.append(answer)
            self.line(
                f"{attempt}: {answer['created']} created, {answer['updated']} updated, "
                f"{answer['unchanged']} unchanged, {answer['failed']} failed"
            )
        first, second = self.pushes
        if first["failed"] or second["unchanged"] != len(items):
            raise StoryFailed(f"the second push should change nothing: {second}")
        self.internships = {i["opportunity"]["id"]: i["opportunity"] for i in second["items"]}
        ours = [
            o
            for o in self.cement.pages(
                "/v1/opportunities",
                params={
                    "provider_org_id": self.credentials.org(data.CEMENT).id,
                    "kind": "internship",
                },
            )
            if (o["external_id"] or "").startswith(f"{DEMO_PREFIX}{self.run:02d}-")
        ]
        versions = sorted({o["version"] for o in ours})
        self.line(
            f"The catalogue holds each reference once: {len(ours)} internships, "
            f"{sum(o['slots'] for o in ours)} places, version {versions} (no change on the retry)."
        )
        if len(ours) != len(items):
            raise StoryFailed(f"expected {len(items)} internships, found {len(ours)}")

    # 4 ------------------------------------------------------------------------------------

    def matching_round(self) -> None:
        self.line("Waiting for the matching engine's read model to see the new internships...")
        for opportunity_id in self.internships:
            self.wait_for_candidates(opportunity_id)
        wait_for_answer(
            "the matching read model",
            lambda: self.manpower.get(
                "/v1/matching/explain",
                params={
                    "resident_id": self.registered[-1]["id"],
                    "opportunity_id": next(iter(self.internships)),
                },
            ),
            timeout=self.feed_timeout,
        )
        run = self.manpower.post(
            "/v1/matching/runs",
            json={"district_codes": [data.KELUMPANG_HILIR], "kinds": ROUND_KINDS},
            headers={"Idempotency-Key": f"pilot-demo-{self.run}-round"},
            expect=(200, 202),
        )
        run = poll(
            "the matching round",
            lambda: (
                r
                if (r := self.manpower.get(f"/v1/matching/runs/{run['id']}"))["status"]
                in ("succeeded", "failed")
                else None
            ),
            timeout=RUN_TIMEOUT_SECONDS,
        )
        self.matching_run = run
        if run["status"] != "succeeded":
            raise StoryFailed(f"the round failed: {run.get('error')}")
        stats = run["statistics"] or {}
        other = stats.get("other_policy") or {}
        self.line(
            f"Round over Kelumpang Hilir's internships: {stats.get('residents_considered')} "
            f"residents and {stats.get('opportunities_considered')} internships considered, "
            f"{stats.get('slots_available')} places, {stats.get('proposals')} proposals, "
            f"justified envy {stats.get('justified_envy')} under the {stats.get('policy')} policy."
        )
        self.line(
            f"  {stats.get('policy')} policy (proposed): total score {stats.get('total_score')}, "
            f"{stats.get('places_filled')} places, justified envy {stats.get('justified_envy')}"
        )
        self.line(
            f"  {other.get('policy')} policy (dry run): total score {other.get('total_score')}, "
            f"{other.get('places_filled')} places, justified envy {other.get('justified_envy')}"
        )
        if stats.get("policy") == "priority" and stats.get("justified_envy") != 0:
            raise StoryFailed(f"the priority policy left justified envy {stats['justified_envy']}")
        proposals = list(self.manpower.pages(f"/v1/matching/runs/{run['id']}/proposals"))
        self.proposals = [p for p in proposals if p["opportunity_id"] in self.internships]
        if not self.proposals:
            raise StoryFailed("the round proposed nobody for the cement company's internships")
        self.line(f"{len(self.proposals)} proposals for the new cement internships.")
        best = min(self.proposals, key=lambda p: p["rank"])
        self.explanation = self.manpower.get(
            "/v1/matching/explain",
            params={"resident_id": best["resident_id"], "opportunity_id": best["opportunity_id"]},
        )
        title = self.internships[best["opportunity_id"]]["title"]
        region = get_region(best["village_code"])
        village = region.name if region else best["village_code"]
        self.line(
            f"Why resident {best['resident_id'][:8]}… of {village} was proposed for “{title}” "
            f"(score {best['score']:.1f} of 100):"
        )
        for feature, points in sorted(best["features"].items(), key=lambda kv: -kv[1]):
            self.line(f"  {feature:<18} {points:6.1f}")
        reasons = {r["code"] for r in self.explanation["reasons"]}
        # Checked now, the proposal itself holds a place and the resident's one internship at
        # a time; any other broken rule would mean the round proposed someone ineligible.
        held = {"no_slots_left", "active_placement_of_kind"}
        if reasons - held:
            raise StoryFailed(f"the proposed pair breaks {sorted(reasons - held)}")
        self.line(
            f"  every rule holds (explained now: score {self.explanation['score']:.1f}; "
            "the place is held for this proposal)"
        )

    def wait_for_candidates(self, opportunity_id: str) -> None:
        def candidates() -> Any:
            return self.manpower.get(
                "/v1/matching/candidates", params={"opportunity_id": opportunity_id, "limit": 1}
            )

        wait_for_answer("the matching read model", candidates, timeout=self.feed_timeout)

    # 5 ------------------------------------------------------------------------------------

    def residents_accept(self) -> None:
        for proposal in self.proposals:
            self.manpower.post(f"/v1/placements/{proposal['placement_id']}/offer")
            village_code = proposal["village_code"]
            village = self.village(village_code)
            placement = village.post(f"/v1/placements/{proposal['placement_id']}/accept")
            self.accepted.append(placement)
            self.line(
                f"{village.who} accepts on behalf of resident {proposal['resident_id'][:8]}… "
                f"(consent to share their contact with the company recorded)"
            )
        # Matching delivers the consents to the registry in the background. Each resident is
        # waited for: when the story is told again, a resident accepted the first time may
        # already be readable by the company through the earlier placement's disclosure, so
        # one readable record says nothing of the others. (Reading while the registry writes
        # other disclosures can fail on SQLite, see the report of this issue.)
        readable: dict[str, Any] = {}
        for placement in self.accepted:
            path = f"/v1/residents/{placement['resident_id']}"
            readable[placement["resident_id"]] = wait_for_answer(
                "the disclosure to the company",
                functools.partial(
                    self.cement.get, path, headers={"X-Purpose": "internship onboarding"}
                ),
                timeout=self.feed_timeout,
            )
        resident = readable[self.accepted[0]["resident_id"]]
        self.disclosed_name = resident["full_name"]
        self.line(
            f"PT Semen Tarjun Sejahtera may now read its intern's record: {resident['full_name']} "
            "(each read is audited)."
        )

    # 6 ------------------------------------------------------------------------------------

    def company_progresses(self) -> None:
        for placement in self.accepted:
            self.cement.post(f"/v1/placements/{placement['id']}/start")
            done = self.cement.post(f"/v1/placements/{placement['id']}/complete")
            if done["status"] != "completed":
                raise StoryFailed(f"placement {placement['id']} is {done['status']}")
            self.completed.append(done)
        self.line(
            f"PT Semen Tarjun Sejahtera started and completed {len(self.completed)} internships."
        )

    # 7 ------------------------------------------------------------------------------------

    def facilitator_follows_up(self) -> None:
        visited = today_utc().isoformat()
        for placement in self.completed:
            visit = self.employed_visit(
                self.social,
                placement["resident_id"],
                visited,
                notes="Completed the internship; hired by the plant on a one-year contract.",
            )
            self.follow_ups.append(visit)
        per_member = self.follow_ups[0]["income_per_member_idr"]
        self.line(
            f"A facilitator of Dinas Sosial visited {len(self.follow_ups)} former interns: "
            f"employed, Rp {per_member:,} per household member a month."
        )
        self.line(
            "Graduation needs two such visits at least 90 days apart, one of them not the "
            "resident's own word: the pilot's late visits decide it (step 10)."
        )

    # 8 ------------------------------------------------------------------------------------

    def employed_visit(
        self, visitor: OrgClient, resident_id: str, visited_on: str, **details: Any
    ) -> dict[str, Any]:
        """A follow-up visit finding the former intern employed at the plant's wage, counted
        when it is new: 200 means this visitor already recorded that visit that day (an earlier
        chapter, or an earlier run of the demo)."""
        body = {
            "visited_on": visited_on,
            "employment_status": "employed",
            "monthly_income_idr": 3_500_000,
            "household_size": 4,
            **details,
        }
        response = visitor.request(
            "POST", f"/v1/residents/{resident_id}/follow-ups", json=body, expect=(200, 201)
        )
        self.new_visits += response.status_code == 201
        visit: dict[str, Any] = response.json()
        return visit

    def capital_grant(self) -> None:
        resident = self.registered[0]
        kube = self.find_offer(data.SOCIAL_AGENCY, "DINSOS-KUBE-2025-01")
        placement = self.manpower.post(
            "/v1/placements",
            json={"resident_id": resident["id"], "opportunity_id": kube["id"]},
            expect=(200, 201),
        )
        self.village(data.TARJUN).post(f"/v1/placements/{placement['id']}/accept")
        self.social.post(f"/v1/placements/{placement['id']}/start")
        self.grant = self.social.post(f"/v1/placements/{placement['id']}/complete")
        self.line(
            f"{resident['full_name']} receives “{kube['title']}”: Rp {kube['grant_amount_idr']:,}, "
            "offered by the manpower agency, accepted by Desa Tarjun, paid by Dinas Sosial."
        )

    def find_offer(self, provider: str, external_id: str) -> dict[str, Any]:
        for offer in self.manpower.pages(
            "/v1/opportunities", params={"provider_org_id": self.credentials.org(provider).id}
        ):
            if offer["external_id"] == external_id:
                return dict(offer)
        raise StoryFailed(
            f"{external_id} of {provider} is not in the catalogue; was the pilot seeded?"
        )

    # 9 ------------------------------------------------------------------------------------

    def refusals_step(self) -> None:
        answer = self.cement.request("GET", "/v1/residents", expect=403)
        self.refusal("company lists residents", answer, "PT Semen Tarjun Sejahtera lists residents")
        answer = self.village(data.TARJUN).request(
            "GET", f"/v1/residents/{self.other_village_resident}", expect=404
        )
        self.refusal(
            "village reads another village",
            answer,
            "Desa Tarjun reads a resident of Kelurahan Kotabaru Hulu",
        )
        warung = self.find_offer(data.BUMDES_TARJUN, "BTB-2025-MODAL-01")
        answer = self.manpower.request(
            "POST",
            "/v1/placements",
            json={"resident_id": self.registered[0]["id"], "opportunity_id": warung["id"]},
            expect=422,
        )
        reasons = answer.json().get("reasons", [])
        if "capital_already_received" not in reasons:
            raise StoryFailed(f"a second grant was refused for {reasons}, not for the first grant")
        self.refusal(
            "second business capital",
            answer,
            f"a second grant for {self.registered[0]['full_name']} (from BUMDes Tarjun)",
        )

    def refusal(self, name: str, response: Any, attempt: str) -> None:
        body = response.json()
        self.refusals[name] = {"status": response.status_code, **body}
        self.line(f"{attempt}: {response.status_code} {body.get('title')} ({body.get('detail')})")

    # 10 -----------------------------------------------------------------------------------

    def cohort_graduates(self) -> None:
        tarjun = self.village(data.TARJUN)
        current = tarjun.get(f"/v1/villages/{data.TARJUN}/priority-list")
        order = [item["resident_id"] for item in current["items"]]
        order += [r["id"] for r in self.registered if r["id"] not in order]
        meeting = {
            "held_on": "2025-08-14",
            "minutes_number": f"BA-{self.run:02d}/TRJ/VIII/2025",
            "minutes_sha256": hashlib.sha256(f"musdes tarjun {self.run}".encode()).hexdigest(),
        }
        listed = tarjun.put(
            f"/v1/villages/{data.TARJUN}/priority-list",
            json={"resident_ids": order, "meeting": meeting},
        )
        self.line(
            f"Desa Tarjun sets its whole priority list of {len(listed['items'])} in one call, "
            f"from the village meeting of {meeting['held_on']} ({meeting['minutes_number']})."
        )
        interns = [placement["resident_id"] for placement in self.completed]
        # Interns the round found beyond the three of step 2 join the cohort now (their
        # baseline is unknown if they were visited before the enrolment date).
        self.social.post(
            f"/v1/cohorts/{COHORT_CODE}/enrolments",
            json={"resident_ids": interns, "enrolled_on": "2025-08-20"},
        )
        plan = poll(
            "the visit plan of the started internships",
            lambda: self.plan_of(interns[0]),
            timeout=self.feed_timeout,
        )
        self.line(
            f"The registry heard of the started internship on matching's feed: visits due on "
            f"{', '.join(item['due_on'] for item in plan if item['kind'] == 'visit')}."
        )
        # The pilot's visits, recorded late with their real 2025 dates: one in September on
        # the family's word, one in December on a payslip.
        for resident_id in interns:
            for visited_on, source, evidence in (
                ("2025-09-01", "self_report", None),
                ("2025-12-01", "payslip", f"SLIP-STS-2025-11-{resident_id[:8]}"),
            ):
                self.employed_visit(
                    self.manpower,
                    resident_id,
                    visited_on,
                    income_source=source,
                    evidence_ref=evidence,
                )
        for resident_id in interns:
            judged = self.social.get(f"/v1/residents/{resident_id}/graduation")
            if judged["graduated"]:
                self.graduated.append(resident_id)
            else:
                missing = [c["missing"] for c in judged["conditions"] if not c["holds"]]
                raise StoryFailed(f"resident {resident_id[:8]}… did not graduate: {missing}")
        rule = self.social.get(f"/v1/residents/{interns[0]}/graduation")
        evidence = rule["events"][0]["evidence"]["visits"]
        self.line(
            f"Their household graduates by rule {rule['rule_version']}: "
            + "; ".join(f"{c['name']} holds ({c['detail']})" for c in rule["conditions"])
            + f". Evidence: {len(evidence)} visits."
        )
        self.cohort = self.social.get(f"/v1/cohorts/{COHORT_CODE}")

    def plan_of(self, resident_id: str) -> list[dict[str, Any]] | None:
        items: list[dict[str, Any]] = self.social.get(
            "/v1/follow-ups/due", params={"resident_id": resident_id}
        )["items"]
        return items or None

    # 11 -----------------------------------------------------------------------------------

    def final_report(self) -> None:
        # Placements, not residents: a resident may come back in a later chapter.
        base = self.baseline["placements"]["total"]
        want_filled = base["slots_filled"] + len(self.completed) + 1
        want_capital = base["capital_disbursed_idr"] + (self.grant.get("grant_amount_idr") or 0)
        want_follow_ups = self.baseline["follow_ups_recorded"] + self.new_visits

        def caught_up() -> dict[str, Any] | None:
            summary = self.district_summary()
            total = summary["placements"]["total"]
            reached = (
                total["slots_filled"] >= want_filled
                and total["capital_disbursed_idr"] >= want_capital
                and summary["follow_ups_recorded"] >= want_follow_ups
            )
            return summary if reached else None

        self.line("Waiting for the reporting read model to count today's work...")
        self.report = poll("the reporting read model", caught_up, timeout=self.feed_timeout)
        self.villages = list(
            self.admin.pages("/v1/reports/villages", params={"district_code": data.KELUMPANG_HILIR})
        )
        self.say("")
        for line in village_table(self.villages):
            self.line(line)
        self.say("")
        funnel = self.report["funnel"]
        self.line(
            "Funnel (residents): "
            + " → ".join(f"{stage} {funnel[stage]['residents']}" for stage in funnel)
        )
        targets = self.report["targets"]
        self.line(
            f"Target: {targets['residents_placed']} of {targets['residents_to_place']} residents "
            f"placed ({(targets['placement_progress'] or 0):.0%}); capital disbursed "
            f"Rp {self.report['placements']['total']['capital_disbursed_idr']:,}."
        )
        counts = self.cohort["counts"]
        if counts["graduated"] < 1:
            raise StoryFailed("no graduated resident in the cohort")

        def cohort_counted() -> dict[str, Any] | None:
            report: dict[str, Any] = self.admin.get(f"/v1/reports/cohorts/{COHORT_CODE}")
            return report if (report["graduated"] or 0) >= len(self.graduated) else None

        self.cohort_report = poll("the cohort report", cohort_counted, timeout=self.feed_timeout)
        self.say("")
        self.line(
            f"Cohort {self.cohort['code']} ({self.cohort['name']}): "
            f"{counts['enrolled']} enrolled, {counts['graduated']} graduated, "
            f"{counts['left_targeted_deciles']} left the targeted deciles."
        )
        for line in cohort_table(self.cohort_report):
            self.line(line)
        self.targeting = list(
            self.admin.pages(
                "/v1/reports/targeting", params={"district_code": data.KELUMPANG_HILIR}
            )
        )
        self.say("")
        for line in targeting_table(self.targeting):
            self.line(line)


TABLE_COLUMNS = (
    ("village", "village_name", 15),
    ("registered", "registered", 10),
    ("verified", "verified", 8),
    ("target", "in_target_group", 6),
    ("ranked", "prioritised", 6),
    ("proposed", "proposed", 8),
    ("accepted", "accepted", 8),
    ("started", "started", 7),
    ("completed", "completed", 9),
    ("visits", "follow_ups", 6),
    ("independent", "independent", 11),
    ("graduated", "graduated", 9),
)
COHORT_CODE = "KTB-2025"
TARGETING_COLUMNS = (
    ("village", "village_code", 15),
    ("target", "target_group", 6),
    ("ranked", "ranked", 6),
    ("inclusion", "inclusion_errors", 9),
    ("exclusion", "exclusion_errors", 9),
    ("ranked%", "share_target_ranked", 7),
    ("proposed%", "share_target_proposed", 9),
    ("placed%", "share_target_placed", 7),
)


COHORT_COLUMNS = (
    ("district", "district_code", 10),
    ("enrolled", "enrolled", 8),
    ("proposed", "proposed", 8),
    ("placed", "placed", 6),
    ("visited", "followed_up", 7),
    ("graduated", "graduated", 9),
    ("left", "left_targeted_deciles", 4),
    ("median Δ/member", "median_income_per_member_change_idr", 15),
    ("to place", "residents_to_place", 8),
    ("placed%", "placement_progress", 7),
)


def cohort_table(report: dict[str, Any]) -> list[str]:
    """The cohort report as a fixed-width table: a row per district, then the cohort's total,
    each against the cohort's targets."""

    def flat(row: dict[str, Any], name: str | None) -> dict[str, Any]:
        return {**row, **(row["targets"] or {}), "district_code": name or row["district_code"]}

    rows = [flat(row, None) for row in report["districts"]]
    return fixed_table(COHORT_COLUMNS, [*rows, flat(report, "all")])


def fixed_table(columns: tuple[tuple[str, str, int], ...], rows: list[dict[str, Any]]) -> list[str]:
    """Rows as a fixed-width table: the first column left-aligned, the others right-aligned,
    ratios as percentages, incomes with a sign, a missing or suppressed value as "-"."""
    first = columns[0][1]

    def cell(key: str, value: Any, width: int) -> str:
        if value is None:
            shown = "-"
        elif isinstance(value, float):
            shown = f"{value:.0%}"
        elif key.endswith("_idr"):
            shown = f"{value:+,}"
        else:
            shown = str(value)
        return shown.ljust(width) if key == first else shown.rjust(width)

    header = "  ".join(
        title.ljust(width) if key == first else title.rjust(width) for title, key, width in columns
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append("  ".join(cell(key, row.get(key), width) for _, key, width in columns))
    return lines


def targeting_table(rows: list[dict[str, Any]]) -> list[str]:
    """The targeting report as a fixed-width table, shares as percentages."""
    return fixed_table(TARGETING_COLUMNS, rows)


def village_table(rows: list[dict[str, Any]]) -> list[str]:
    """The villages report as a fixed-width table with a total row."""

    def cell(value: Any, width: int, text: bool) -> str:
        shown = "-" if value is None else str(value)
        return shown.ljust(width) if text else shown.rjust(width)

    header = "  ".join(
        title.ljust(width) if key == "village_name" else title.rjust(width)
        for title, key, width in TABLE_COLUMNS
    )
    lines = [header, "-" * len(header)]
    totals: dict[str, Any] = {"village_name": "Kelumpang Hilir"}
    for row in rows:
        lines.append(
            "  ".join(
                cell(row.get(key), width, key == "village_name") for _, key, width in TABLE_COLUMNS
            )
        )
        for _, key, _ in TABLE_COLUMNS[1:]:
            totals[key] = (totals.get(key) or 0) + (row.get(key) or 0)
    lines.append("-" * len(header))
    lines.append(
        "  ".join(
            cell(totals.get(key), width, key == "village_name") for _, key, width in TABLE_COLUMNS
        )
    )
    return lines


def wait_for_seed(path: Path, timeout: float) -> PilotCredentials | None:
    """The credentials of a finished seed; `make demo` started right after `make run` waits
    for the seed process to finish (a bounded wait)."""
    deadline = time.monotonic() + timeout
    credentials = load_credentials(path)
    if credentials is None or not credentials.complete:
        print(f"Waiting up to {timeout:.0f} s for the seed of `make run` to finish...")
    while (credentials is None or not credentials.complete) and time.monotonic() < deadline:
        time.sleep(1)
        credentials = load_credentials(path)
    return credentials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.pilot.demo", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--gateway", default=None, help="gateway URL (default: the seeded one)")
    parser.add_argument("--credentials", type=Path, default=None)
    parser.add_argument(
        "--wait", type=float, default=SEED_WAIT_SECONDS, help="seconds to wait for the seed"
    )
    args = parser.parse_args(argv)
    path = args.credentials or default_credentials_path()
    try:
        refuse_production()
        credentials = wait_for_seed(path, args.wait)
        if credentials is None:
            print(
                f"No {path}: start the stack with `make run` (it seeds the pilot) or seed a "
                "running stack with `make seed`, then run `make demo` again.",
                file=sys.stderr,
            )
            return 2
        if not credentials.complete:
            print(
                f"The seed recorded in {path} has not finished: wait for `make run` to print "
                "the credentials, or finish it with `make seed`.",
                file=sys.stderr,
            )
            return 2
        with Gateway(args.gateway or credentials.gateway) as gateway:
            if not gateway.ready():
                print(
                    f"{gateway.base_url}/readyz is not ready: is `make run` going?", file=sys.stderr
                )
                return 2
            started = time.monotonic()
            Story(gateway, credentials).tell()
    except ProductionRefused as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2
    except (StoryFailed, UnexpectedAnswer, TimeoutError) as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    print(f"\nThe story took {time.monotonic() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
