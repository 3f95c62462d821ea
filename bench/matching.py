"""Benchmark 3, matching: one round of the allocation engine (``compute_round`` in
``services/matching/runs/service.py``: arrays, candidates, the policy's solve per component,
the other policy's over the same candidates, justified envy) at 10,000, 100,000 and 1,000,000
residents, opportunities a tenth of that with about three slots each. Each size and policy
runs in its own process, so its peak memory is its own (with the peak of each worker process
that solved components, added). The max-score round is set beside a bare solve of its final
graph (``round/bare solve``): one OR-Tools ``SimpleMinCostFlow`` over the whole graph, as the
round solved it before issue 18. At the largest size it is also set beside the global-graph
path as it was then: one global graph solved after the first candidates and after each refill
pass, without the other policy's dry run (which that path never had).

One size and mode alone: ``python -m bench.matching 100000 max_score`` (modes: priority,
max_score, global) prints that process's figures as JSON.

The programme grows by adding regions, not by packing more people into one village: residents
stay about fifty per village and the round covers more villages as it grows (the regency 63.02
first, then the rest of the province, then the rest of the reference list). The baseline is
linear growth: a growth ratio of 10 per tenfold means the round scales like its input.
"""

from __future__ import annotations

import itertools
import json
import random
import resource
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.data import EDUCATION_LEVELS, EDUCATION_WEIGHTS, skill_slugs
from bench.harness import REPO, SEED, Report, Stopwatch, ratio

SIZES = {"quick": (1_000, 10_000), "full": (10_000, 100_000, 1_000_000)}
RESIDENTS_PER_VILLAGE = 50
RUN_DATE = date(2026, 9, 1)
KINDS = ("job", "internship", "training", "business_capital", "mentoring")
KIND_WEIGHTS = (40, 20, 20, 10, 10)


def round_villages(count: int) -> list[str]:
    """``count`` village codes: the regency first, then its province, then the rest."""
    from shared.programme.regions import regions

    codes = sorted(code for code, r in regions().items() if r.level == "village")

    def order(code: str) -> tuple[int, str]:
        return (0 if code.startswith("63.02.") else 1 if code.startswith("63.") else 2, code)

    codes.sort(key=order)
    return codes[:count]


def build_facts(residents: int, seed: int) -> tuple[list[Any], list[Any]]:
    from services.matching.eligibility.rules import OpportunityFacts, ResidentFacts

    rng = random.Random(seed)
    villages = round_villages(max(1, residents // RESIDENTS_PER_VILLAGE))
    slugs = skill_slugs()
    registered = datetime(2026, 1, 1, tzinfo=UTC)
    people = []
    for _ in range(residents):
        village = rng.choice(villages)
        people.append(
            ResidentFacts(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                village_code=village,
                district_code=village.rsplit(".", 1)[0],
                regency_code=village[:5],
                status="verified",
                in_target_group=True,
                age=rng.randint(15, 64),
                sex=rng.choice("MF"),
                education_level=rng.choices(EDUCATION_LEVELS, EDUCATION_WEIGHTS)[0],
                skills=tuple(rng.sample(slugs, rng.randint(0, 3))),
                welfare_decile=rng.randint(1, 4),
                priority_rank=rng.randint(1, 60) if rng.random() < 0.5 else None,
                waiting_since=registered + timedelta(days=rng.randrange(200)),
            )
        )
    offers = []
    for _ in range(residents // 10):
        village = rng.choice(villages)
        reach = rng.random()
        # Most offers are for the district around them, some for the village, a few for the
        # whole regency (a cement plant recruiting everywhere).
        area = (
            (village,)
            if reach < 0.30
            else (village.rsplit(".", 1)[0],)
            if reach < 0.85
            else (village[:5],)
        )
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        offers.append(
            OpportunityFacts(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                kind=kind,
                provider_org_id=f"provider-{rng.randrange(residents // 100 + 1)}",
                status="open",
                location_village_code=village,
                eligible_area_codes=area,
                min_age=18 if kind == "job" else None,
                max_age=35 if kind == "internship" else None,
                min_education="junior_secondary" if kind in ("job", "internship") else None,
                skills_required=tuple(rng.sample(slugs, rng.randint(0, 1))),
                skills_taught=tuple(rng.sample(slugs, 2)) if kind == "training" else (),
                valid_through=RUN_DATE + timedelta(days=60),
                remaining_slots=rng.randint(1, 5),
            )
        )
    return people, offers


def _rss_mb() -> float:
    """Resident set size in MiB (2**20 bytes: the ``_mb`` figures are MiB, as they were)."""
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * resource.getpagesize() / 2**20


# Issue 18: a round of 1M residents peaks at no more than 3 GB above the process before it,
# read as 3,000,000,000 bytes (the stricter reading), in MiB as the figures are.
ROUND_MEMORY_GOAL_MIB = round(3e9 / 2**20, 1)


# What one process measures: the default (priority) policy's round, the max-score round with
# a bare solve of its final graph after it, or the max-score round over one global graph.
MODES = ("priority", "max_score", "global")


def _workers_peak_mb() -> float:
    """The peak RSS of the worker processes that solved components (VmHWM, while they live:
    they are not this process's children, so ``RUSAGE_CHILDREN`` would not see them)."""
    from services.matching.allocation.components import worker_pids

    total = 0.0
    for pid in worker_pids():
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return total


def measure(residents: int, mode: str) -> dict[str, Any]:
    """In a process of its own: build the facts, then time one round (and, for max_score, one
    bare min-cost-flow solve of the round's final graph, globally, as OR-Tools is called)."""
    from services.matching.allocation.components import solve
    from services.matching.runs.service import compute_round
    from services.matching.scoring.service import Policy
    from services.matching.settings import MatchingSettings

    people, offers = build_facts(residents, SEED + residents)
    allocation = "priority" if mode == "priority" else "max_score"
    policy = Policy.from_settings(MatchingSettings(consume_feeds=False), {"allocation": allocation})
    before = _rss_mb()
    clock = Stopwatch()
    # The global mode is the path before issue 18: no dry run of the other policy.
    result = compute_round(
        people,
        offers,
        RUN_DATE,
        policy,
        per_component=mode != "global",
        compare=mode != "global",
        keep_graph=True,
    )
    seconds = clock.seconds
    # ru_maxrss is in KiB on Linux: the high-water mark of the whole process, read before the
    # bare solve so that it is the round's own; the workers' peaks are added to it.
    workers = _workers_peak_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 + workers
    stats = result.statistics
    figures: dict[str, Any] = {
        "residents": residents,
        "mode": mode,
        "opportunities": len(offers),
        "slots": stats["slots_available"],
        "villages": len({p.village_code for p in people}),
        "seconds": round(seconds, 3),
        "rss_before_round_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "round_memory_mb": round(peak - before, 1),
        "round_memory_million_bytes": round((peak - before) * 2**20 / 1e6, 1),
        "workers_peak_rss_mb": round(workers, 1),
        "candidate_pairs": stats["candidate_pairs"],
        "components": stats.get("components", {}).get("count", 1),
        "proposals": stats["proposals"],
        "total_score": stats["total_score"],
        "justified_envy": stats["justified_envy"],
    }
    if "other_policy" in stats:
        figures["other_total_score"] = stats["other_policy"]["total_score"]
        figures["other_justified_envy"] = stats["other_policy"]["justified_envy"]
    if mode == "max_score" and result.graph is not None:
        problem, candidates = result.graph
        clock = Stopwatch()
        solve("max_score", problem, candidates)
        figures["bare_solve_seconds"] = round(clock.seconds, 3)
    return figures


def _in_process(residents: int, mode: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.matching", str(residents), mode],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"matching at {residents} ({mode}): {completed.stderr[-3000:]}")
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def run(*, quick: bool) -> Report:
    sizes = SIZES["quick" if quick else "full"]
    report = Report(
        "matching",
        "Matching: one round of the allocation engine, per policy",
        quick,
        sizes={
            "residents": list(sizes),
            "opportunities": [n // 10 for n in sizes],
            "residents_per_village": RESIDENTS_PER_VILLAGE,
        },
    )
    by_mode: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for residents in sizes:
        # The global graph only at the largest size: the comparison the per-component path
        # is built for, and minutes at a million.
        modes = MODES if residents == sizes[-1] else MODES[:2]
        for mode in modes:
            figures = _in_process(residents, mode)
            by_mode[mode].append(figures)
            print(json.dumps(figures), flush=True)  # each process's figures as they come
            report.add(f"{residents:,} residents, {mode}", **figures)
        max_score = by_mode["max_score"][-1]
        report.add_ratio(
            f"round/bare solve {residents:,}",
            ratio(max_score["seconds"], max_score["bare_solve_seconds"]),
            goal=2.5 if residents >= 1_000_000 else None,
            at_most=True,
        )
    largest = sizes[-1]
    per_component, global_path = by_mode["max_score"][-1], by_mode["global"][-1]
    report.add_ratio(
        f"round per component/global graph {largest:,}",
        ratio(per_component["seconds"], global_path["seconds"]),
        goal=0.5 if largest >= 1_000_000 else None,
        at_most=True,
    )
    for mode in MODES[:2]:
        top = by_mode[mode][-1]
        report.add_ratio(
            f"{mode} round memory MiB {largest:,}",
            top["round_memory_mb"],
            goal=ROUND_MEMORY_GOAL_MIB if largest >= 1_000_000 else None,
            at_most=True,
        )
    for mode in MODES[:2]:
        for smaller, larger in itertools.pairwise(by_mode[mode]):
            step = f"{smaller['residents']:,} -> {larger['residents']:,}"
            report.add_ratio(
                f"{mode} seconds growth {step}", ratio(larger["seconds"], smaller["seconds"])
            )
            report.add_ratio(
                f"{mode} round memory growth {step}",
                ratio(larger["round_memory_mb"], smaller["round_memory_mb"]),
            )
    report.notes.append("growth ratios per tenfold of residents; 10 is linear, the baseline")
    report.notes.append(
        "round_memory_mb = peak RSS of the process, plus the peaks of the worker processes "
        "that solved components, minus RSS before the round, in MiB (2**20 bytes; "
        "round_memory_million_bytes: the same in MB of 10**6 bytes); the goal, 3 GB, is read "
        f"as 3,000 MB = {ROUND_MEMORY_GOAL_MIB:,} MiB"
    )
    report.notes.append(
        "each round also solves the other policy over its final candidates (other_*), except "
        "the global mode, the path before issue 18 that never did; bare solve = one global "
        "SimpleMinCostFlow over the max-score round's final graph"
    )
    report.write()
    return report


if __name__ == "__main__":
    print(json.dumps(measure(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "priority")))
