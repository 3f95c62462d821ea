"""Targeting accuracy per village from the read model: who the village ranked against who the
programme targets (``rules.py``), with the small-cell suppression of every report: for
regional agencies each measure's village cells and their district and regency totals are
masked together (``indicators.rules.suppress``), and a share whose count is hidden is too.

Ranks are the residents' current ones (the read model keeps no history of ranks): ``as_of``
narrows residents and placements to those known by then, not the ranks they had then.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.reporting.indicators.models import ReportScope
from services.reporting.indicators.rules import Group, suppress
from services.reporting.indicators.service import in_region
from services.reporting.readmodel.models import PlacementFact, ResidentFact
from services.reporting.targeting import rules
from services.reporting.targeting.models import TargetingRow
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.kit.problems import Forbidden
from shared.kit.time import as_utc
from shared.programme.regions import district_of

Cell = tuple[str, str]  # (measure, region code)


def _people(session: Session, scope: ReportScope) -> dict[str, list[rules.Person]]:
    residents = select(ResidentFact).where(
        col(ResidentFact.removed_at).is_(None),
        col(ResidentFact.status) != "archived",
        *in_region(scope.region, ResidentFact.district_code, ResidentFact.village_code),
    )
    placements = select(
        col(PlacementFact.resident_id),
        col(PlacementFact.proposed_at),
        col(PlacementFact.started_at),
    ).where(*in_region(scope.region, PlacementFact.district_code, PlacementFact.village_code))
    if scope.cutoff is not None:
        residents = residents.where(col(ResidentFact.registered_at) < scope.cutoff)
    proposed: set[str] = set()
    placed: set[str] = set()
    # SQLite hands the times back naive (UTC); the cutoff is aware.
    for resident_id, proposed_at, started_at in session.execute(placements):
        if scope.cutoff is None or (proposed_at is not None and as_utc(proposed_at) < scope.cutoff):
            proposed.add(resident_id)
        if scope.happened(started_at):
            placed.add(resident_id)
    by_village: dict[str, list[rules.Person]] = defaultdict(list)
    for fact in session.scalars(residents):
        by_village[fact.village_code].append(
            rules.Person(
                in_target_group=fact.in_target_group,
                welfare_decile=fact.welfare_decile,
                ranked=fact.priority_rank is not None,
                proposed=fact.id in proposed,
                placed=fact.id in placed,
            )
        )
    return by_village


def _hidden(counts: dict[str, dict[str, int]], threshold: int) -> frozenset[Cell]:
    cells: dict[Cell, int] = {}
    groups: list[Group[Cell]] = []
    districts: dict[str, list[str]] = defaultdict(list)
    for village in counts:
        districts[district_of(village) or ""].append(village)
    for measure in rules.MEASURES:
        for district, villages in districts.items():
            for village in villages:
                cells[(measure, village)] = counts[village][measure]
            cells[(measure, district)] = sum(counts[v][measure] for v in villages)
            groups.append(Group((measure, district), [(measure, v) for v in villages]))
        groups.append(Group((measure, "*"), [(measure, d) for d in districts]))
        cells[(measure, "*")] = sum(cells[(measure, d)] for d in districts)
    return suppress(cells, groups, threshold)


def targeting(
    session: Session, scope: ReportScope, params: PageParams
) -> tuple[list[TargetingRow], str | None]:
    if not scope.residents_visible:
        raise Forbidden("the targeting report is about residents; providers read their own")
    counts = {
        village: rules.village_counts(people) for village, people in _people(session, scope).items()
    }
    hidden = _hidden(counts, scope.suppress_below) if scope.suppress_below > 1 else frozenset()

    def shown(measure: str, village: str) -> int | None:
        return None if (measure, village) in hidden else counts[village][measure]

    villages = sorted(counts)
    if params.cursor:
        [after] = decode_cursor(params.cursor, 1)
        villages = [v for v in villages if v > str(after)]
    page = villages[: params.limit]
    rows = [
        TargetingRow(
            district_code=district_of(village) or "",
            village_code=village,
            target_group=shown("target_group", village),
            ranked=shown("ranked", village),
            inclusion_errors=shown("inclusion_errors", village),
            exclusion_errors=shown("exclusion_errors", village),
            share_target_ranked=rules.share(
                shown("target_ranked", village), shown("target_group", village)
            ),
            share_target_proposed=rules.share(
                shown("target_proposed", village), shown("target_group", village)
            ),
            share_target_placed=rules.share(
                shown("target_placed", village), shown("target_group", village)
            ),
        )
        for village in page
    ]
    cursor = encode_cursor([page[-1]]) if len(villages) > params.limit else None
    return rows, cursor
