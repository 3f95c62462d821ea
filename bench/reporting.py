"""Benchmark 4, reporting: ``GET /v1/reports/summary`` and ``GET /v1/reports/villages`` of the
regency over 1,000,000 residents and 100,000 placements, loaded with ``COPY`` straight into the
reporting read model, against one hand-written SQL ``GROUP BY`` that computes the same counts
(per village; the regency's totals are its sums) on the same tables.

Reports are heavy single requests, so wrk runs one connection: the figures are the latency of
one report at a time, the way a dashboard or an export asks for it.
"""

from __future__ import annotations

import random
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import httpx
import psycopg

from bench.data import EDUCATION_LEVELS, EDUCATION_WEIGHTS, villages
from bench.harness import (
    SEED,
    BenchError,
    Report,
    Service,
    Stopwatch,
    benchmark,
    ratio,
    rig,
    run_wrk,
    upstream_env,
)

SIZES = {
    "quick": {"residents": 20_000, "placements": 2_000, "opportunities": 500, "seconds": 3},
    "full": {
        "residents": 1_000_000,
        "placements": 100_000,
        "opportunities": 10_000,
        "seconds": 30,
    },
}
BASELINE_REPEATS = 5
KINDS = ("job", "internship", "training", "business_capital", "mentoring")
PROVIDER_TYPES = ("company", "university", "school", "bumdes", "ngo")
START = datetime(2026, 7, 1, tzinfo=UTC)
AGE_BANDS = ((15, 24), (25, 34), (35, 44), (45, 54), (55, 64))

# The village table in one statement. The regency totals are its column sums: a resident lives
# in one village, so the distinct residents of the villages add up to those of the regency.
BASELINE_SQL = """
WITH r AS (
    SELECT village_code,
           count(*) AS registered,
           count(verified_at) AS verified,
           count(*) FILTER (WHERE in_target_group) AS in_target_group,
           count(priority_rank) AS prioritised,
           count(independent_at) AS independent
    FROM rm_resident
    WHERE removed_at IS NULL
    GROUP BY village_code
), p AS (
    SELECT village_code,
           count(DISTINCT resident_id) FILTER (WHERE proposed_at IS NOT NULL) AS proposed,
           count(DISTINCT resident_id) FILTER (WHERE offered_at IS NOT NULL) AS offered,
           count(DISTINCT resident_id) FILTER (WHERE accepted_at IS NOT NULL) AS accepted,
           count(DISTINCT resident_id) FILTER (WHERE started_at IS NOT NULL) AS started,
           count(DISTINCT resident_id) FILTER (WHERE completed_at IS NOT NULL) AS completed,
           count(DISTINCT resident_id)
               FILTER (WHERE status = 'dropped' AND ended_at IS NOT NULL) AS dropped
    FROM rm_placement
    GROUP BY village_code
)
SELECT village_code,
       coalesce(r.registered, 0) AS registered, coalesce(r.verified, 0) AS verified,
       coalesce(r.in_target_group, 0) AS in_target_group,
       coalesce(r.prioritised, 0) AS prioritised, coalesce(r.independent, 0) AS independent,
       coalesce(p.proposed, 0) AS proposed, coalesce(p.offered, 0) AS offered,
       coalesce(p.accepted, 0) AS accepted, coalesce(p.started, 0) AS started,
       coalesce(p.completed, 0) AS completed, coalesce(p.dropped, 0) AS dropped
FROM r FULL JOIN p USING (village_code)
"""


class Offer(NamedTuple):
    """An opportunity's columns that its placements carry too, in the read model's order."""

    id: str
    provider_org_id: str
    provider_org_type: str
    kind: str


def _band(age: int) -> str:
    for low, high in AGE_BANDS:
        if low <= age <= high:
            return f"{low}-{high}"
    return "under-15" if age < 15 else "65+"


def load_read_model(url: str, size: dict[str, int], seed: int) -> None:
    """Residents, opportunities and placements straight into the read-model tables."""
    rng = random.Random(seed)
    codes = villages()
    resident_ids: list[tuple[str, str]] = []
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        with cursor.copy(
            "COPY rm_resident (id, version, village_code, district_code, regency_code, sex, age,"
            " age_band, education_level, welfare_decile, has_disability, productive_age,"
            " in_target_group, status, priority_rank, registered_at, verified_at, independent_at)"
            " FROM STDIN"
        ) as copy:
            for _ in range(size["residents"]):
                resident = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                village = rng.choice(codes)
                resident_ids.append((resident, village))
                age = rng.randint(15, 70)
                decile = rng.randint(1, 10)
                registered = START + timedelta(minutes=rng.randrange(60 * 24 * 90))
                verified = registered + timedelta(days=2) if rng.random() < 0.7 else None
                independent = (
                    verified + timedelta(days=100) if verified and rng.random() < 0.05 else None
                )
                productive = age <= 64
                copy.write_row(
                    (
                        resident,
                        1,
                        village,
                        village.rsplit(".", 1)[0],
                        village[:5],
                        rng.choice("MF"),
                        age,
                        _band(age),
                        rng.choices(EDUCATION_LEVELS, EDUCATION_WEIGHTS)[0],
                        decile,
                        rng.random() < 0.02,
                        productive,
                        productive and decile <= 4,
                        "independent" if independent else "verified" if verified else "registered",
                        rng.randint(1, 100) if rng.random() < 0.2 else None,
                        registered,
                        verified,
                        independent,
                    )
                )
        opportunities: list[Offer] = []
        with cursor.copy(
            "COPY rm_opportunity (id, version, provider_org_id, provider_org_type, kind,"
            " location_village_code, district_code, slots, status, created_at, opened_at)"
            " FROM STDIN"
        ) as copy:
            for _ in range(size["opportunities"]):
                opportunity = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                provider = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                kind = rng.choice(KINDS)
                offer = Offer(opportunity, provider, rng.choice(PROVIDER_TYPES), kind)
                village = rng.choice(codes)
                opportunities.append(offer)
                created = START + timedelta(days=rng.randrange(60))
                copy.write_row(
                    (
                        offer.id,
                        1,
                        offer.provider_org_id,
                        offer.provider_org_type,
                        offer.kind,
                        village,
                        village.rsplit(".", 1)[0],
                        rng.randint(1, 5),
                        "open",
                        created,
                        created,
                    )
                )
        with cursor.copy(
            "COPY rm_placement (id, version, status, resident_id, opportunity_id,"
            " provider_org_id, provider_org_type, kind, village_code, district_code,"
            " grant_amount_idr, proposed_at, offered_at, accepted_at, started_at,"
            " completed_at, ended_at) FROM STDIN"
        ) as copy:
            for resident, village in rng.sample(resident_ids, size["placements"]):
                offer = rng.choice(opportunities)
                proposed = START + timedelta(days=60 + rng.randrange(30))
                stage = rng.random()
                offered = proposed + timedelta(days=1) if stage < 0.8 else None
                accepted = offered + timedelta(days=2) if offered and stage < 0.6 else None
                started = accepted + timedelta(days=7) if accepted and stage < 0.5 else None
                completed = started + timedelta(days=60) if started and stage < 0.2 else None
                dropped = started is not None and completed is None and stage > 0.45
                ended = (started + timedelta(days=30)) if dropped and started else completed
                status = (
                    "dropped"
                    if dropped
                    else "completed"
                    if completed
                    else "started"
                    if started
                    else "accepted"
                    if accepted
                    else "offered"
                    if offered
                    else "proposed"
                )
                copy.write_row(
                    (
                        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                        1,
                        status,
                        resident,
                        *offer,
                        village,
                        village.rsplit(".", 1)[0],
                        rng.choice((2_000_000, 5_000_000))
                        if offer.kind == "business_capital"
                        else None,
                        proposed,
                        offered,
                        accepted,
                        started,
                        completed,
                        ended,
                    )
                )
        conn.commit()
    # Fresh statistics, as autovacuum would have gathered on a table that grew over months.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE rm_resident")
        conn.execute("VACUUM ANALYZE rm_opportunity")
        conn.execute("VACUUM ANALYZE rm_placement")


def baseline(url: str) -> tuple[float, list[dict[str, Any]]]:
    """Median seconds of the hand-written query (after one warm-up run), and its rows."""
    timings = []
    rows: list[dict[str, Any]] = []
    with psycopg.connect(url, row_factory=psycopg.rows.dict_row) as conn:
        conn.execute(BASELINE_SQL).fetchall()
        for _ in range(BASELINE_REPEATS):
            clock = Stopwatch()
            rows = conn.execute(BASELINE_SQL).fetchall()
            timings.append(clock.seconds)
    return statistics.median(timings), rows


def check_same_counts(
    client: httpx.Client, rows: list[dict[str, Any]], residents: int, placements: int
) -> None:
    """The reports and the hand-written query must count the same, or the comparison is void."""
    total = {
        name: sum(int(row[name]) for row in rows)
        for name in ("registered", "verified", "proposed", "started")
    }
    summary = client.get("/v1/reports/summary").json()
    expected = {
        "registered": (summary["residents"]["registered"], total["registered"]),
        "verified": (summary["residents"]["verified"], total["verified"]),
        "proposed": (summary["placements"]["total"]["proposed"], total["proposed"]),
        "started": (summary["placements"]["total"]["started"], total["started"]),
    }
    village_page = client.get("/v1/reports/villages", params={"limit": 500}).json()["items"]
    by_village = {row["village_code"]: row for row in rows}
    for item in village_page:
        base = by_village.get(item["village_code"])
        if base is not None:
            expected[f"registered in {item['village_code']}"] = (
                item["registered"],
                base["registered"],
            )
    wrong = {name: pair for name, pair in expected.items() if pair[0] != pair[1]}
    if wrong or total["registered"] != residents:
        raise BenchError(f"reports and SQL disagree (report, SQL): {wrong}")
    if total["proposed"] > placements:
        raise BenchError("more residents proposed than placements loaded")


@benchmark("reporting", "Reporting: regency summary and village table", SIZES)
def run(report: Report, size: dict[str, int]) -> None:
    report.sizes |= {k: v for k, v in size.items() if k != "seconds"}
    report.sizes |= {
        "villages": len(villages()),
        "wrk_connections": 1,
        "wrk_seconds": size["seconds"],
    }
    with rig("reporting", "reporting") as bench:
        url = bench.databases["reporting"]
        clock = Stopwatch()
        load_read_model(url, size, SEED + 4)
        report.sizes["load_seconds"] = round(clock.seconds, 1)
        sql_seconds, rows = baseline(url)
        # No producers run here: the feed consumers find nobody and wait a minute between tries.
        env = bench.env("reporting") | upstream_env("reporting", {})
        env["REPORTING_FEED_POLL_SECONDS"] = "60"
        auth = {"Authorization": bench.keys.authorization("admin")}
        with Service("reporting", "services.reporting.main:create_app", env, bench.work) as service:
            with httpx.Client(base_url=service.url, headers=auth, timeout=300) as client:
                check_same_counts(client, rows, size["residents"], size["placements"])
            results = {
                label: run_wrk(
                    service.url + path,
                    seconds=size["seconds"],
                    connections=1,
                    threads=1,
                    headers=auth,
                )
                for label, path in (
                    ("GET /v1/reports/summary", "/v1/reports/summary"),
                    ("GET /v1/reports/villages (all rows)", "/v1/reports/villages?limit=500"),
                )
            }
    report.add(
        "hand-written SQL GROUP BY (median)",
        requests=BASELINE_REPEATS,
        p50_ms=round(sql_seconds * 1000, 1),
    )
    for label, result in results.items():
        report.add(label, **result.figures())
    summary_ms = results["GET /v1/reports/summary"].p50_ms
    villages_ms = results["GET /v1/reports/villages (all rows)"].p50_ms
    report.add_ratio("summary p50 / SQL", ratio(summary_ms, sql_seconds * 1000))
    report.add_ratio("villages p50 / SQL", ratio(villages_ms, sql_seconds * 1000))
    report.notes.append(
        "ratios are how many times longer the endpoint takes than the one hand-written query"
    )
