"""The programme's indicators, computed in the database with GROUP BY.

Each query scans its table once and returns a handful of aggregated rows (per village, per
kind, per profile cell); Python only folds those rows into the report, never loops over
residents. Definitions are in ``services/reporting/README.md``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from services.reporting.indicators.models import ReportScope
from services.reporting.indicators.rules import Group, primary, suppress
from services.reporting.readmodel.models import (
    FollowUpFact,
    OpportunityFact,
    PlacementFact,
    ResidentFact,
)
from services.reporting.stages.models import STANDING, ProgramTarget
from shared.kit.database import table_of
from shared.programme.regions import children_of, district_of, get_region, level_of

RESIDENTS = table_of(ResidentFact)
OPPORTUNITIES = table_of(OpportunityFact)
PLACEMENTS = table_of(PlacementFact)
FOLLOW_UPS = table_of(FollowUpFact)
TARGETS = table_of(ProgramTarget)

KINDS = ("job", "internship", "training", "business_capital", "mentoring")
CAPITAL_KIND = "business_capital"
FUNNEL = ("proposed", "offered", "accepted", "started", "completed", "independent")
PLACEMENT_STAGES = ("proposed", "offered", "accepted", "started", "completed", "dropped")
RESIDENT_COUNTS = ("registered", "verified", "in_target_group", "prioritised", "independent")
PROFILE = (
    "sex",
    "age_band",
    "education_level",
    "welfare_decile",
    "has_disability",
    "in_target_group",
)
BREAKDOWNS = ("sex", "age_band", "education_level", "welfare_decile", "disability")
VILLAGE_COLUMNS = (
    "district_code",
    "district_name",
    "village_code",
    "village_name",
    *RESIDENT_COUNTS[:4],
    *PLACEMENT_STAGES,
    "slots_filled",
    "capital_disbursed_idr",
    "follow_ups",
    "independent",
    "graduated",
)
PROVIDER_COLUMNS = (
    "provider_org_id",
    "provider_org_type",
    "opportunities",
    "slots_offered",
    "slots_filled",
    "started",
    "completed",
    "dropped",
)


def tune(session: Session, work_mem: str) -> None:
    """Give this transaction's sorts and hashes room (PostgreSQL ``SET LOCAL work_mem``): with
    the default 4 MB, grouping 100,000 placements by resident spills to disk and sorts."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('work_mem', :value, true)"), {"value": work_mem})


# -- building blocks ----------------------------------------------------------------------------
def _by(column: Any, scope: ReportScope) -> ColumnElement[bool]:
    """``column`` happened by the cutoff."""
    if scope.cutoff is None:
        return column.is_not(None)
    return and_(column.is_not(None), column < scope.cutoff)


def _not_by(column: Any, scope: ReportScope) -> ColumnElement[bool]:
    if scope.cutoff is None:
        return column.is_(None)
    return or_(column.is_(None), column >= scope.cutoff)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def in_region(region: str | None, district: Any, village: Any) -> list[ColumnElement[bool]]:
    """The conditions that keep a table's rows to ``region``, given the table's district and
    village code columns: a village or a district by its code, a regency by its districts."""
    if region is None:
        return []
    level = level_of(region)
    if level == "village":
        return [village == region]
    if level == "district":
        return [district == region]
    return [district.like(region + ".%")]


def _in_region(table: Table, region: str | None) -> list[ColumnElement[bool]]:
    return in_region(region, table.c.district_code, table.c.village_code)


def _rows(session: Session, statement: Select[Any]) -> list[dict[str, Any]]:
    # The keys once per result: ``dict(row._mapping)`` rebuilds them for every row, a tenth of
    # a report's time when the profile query returns a thousand groups.
    result = session.execute(statement)
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


# -- queries ------------------------------------------------------------------------------------
def resident_counts(
    session: Session, scope: ReportScope, group_by: Iterable[str] = ()
) -> list[dict[str, Any]]:
    r = RESIDENTS
    # A group key named like a count (in_target_group) is returned as "is_<name>".
    keys = [
        r.c[name].label(f"is_{name}") if name in RESIDENT_COUNTS else r.c[name] for name in group_by
    ]
    target = r.c.in_target_group.is_(True)
    statement = (
        select(
            *keys,
            func.count().label("registered"),
            _count_if(_by(r.c.verified_at, scope)).label("verified"),
            _count_if(target).label("in_target_group"),
            _count_if(r.c.priority_rank.is_not(None)).label("prioritised"),
            _count_if(_by(r.c.independent_at, scope)).label("independent"),
        )
        .select_from(r)
        .where(_by(r.c.registered_at, scope), _not_by(r.c.removed_at, scope))
        .where(*_in_region(r, scope.region))
        .group_by(*keys)
    )
    return _rows(session, statement)


def placement_counts(
    session: Session,
    scope: ReportScope,
    group_by: Iterable[str] = (),
    *,
    independent: bool = False,
) -> list[dict[str, Any]]:
    """Distinct residents per stage. The inner query folds each resident's placements into
    one row of 0/1 flags (one hash aggregate), the outer one sums them: far cheaper than a
    COUNT(DISTINCT) per stage, each of which would sort every resident id again."""
    p = PLACEMENTS
    names = list(group_by)
    dropped = and_(p.c.status == "dropped", _by(p.c.ended_at, scope))
    capital = and_(p.c.kind == CAPITAL_KIND, _by(p.c.started_at, scope))
    stages = {
        "proposed": _by(p.c.proposed_at, scope),
        "offered": _by(p.c.offered_at, scope),
        "accepted": _by(p.c.accepted_at, scope),
        "started": _by(p.c.started_at, scope),
        "completed": _by(p.c.completed_at, scope),
        "dropped": dropped,
        "capital_recipients": capital,
    }
    per_resident = (
        select(
            *(p.c[name] for name in names),
            p.c.resident_id,
            *(func.max(case((cond, 1), else_=0)).label(name) for name, cond in stages.items()),
            _count_if(and_(_by(p.c.accepted_at, scope), ~dropped)).label("slots_filled"),
            func.coalesce(
                func.sum(case((capital, func.coalesce(p.c.grant_amount_idr, 0)), else_=0)), 0
            ).label("capital_disbursed_idr"),
        )
        .where(*_in_region(p, scope.region))
        .group_by(*(p.c[name] for name in names), p.c.resident_id)
    )
    inner = _owned(per_resident, scope, p.c.provider_org_id).subquery("per_resident")
    summed = [*stages, "slots_filled", "capital_disbursed_idr"]
    columns: list[Any] = [func.coalesce(func.sum(inner.c[name]), 0).label(name) for name in summed]
    source: Any = inner
    if independent:
        # Economically independent after starting a placement: the funnel's last stage.
        # Only the few independent residents are joined (an index on independent_at).
        freed = (
            select(RESIDENTS.c.id)
            .where(_by(RESIDENTS.c.independent_at, scope))
            .subquery("independent_residents")
        )
        source = inner.outerjoin(freed, freed.c.id == inner.c.resident_id)
        both = and_(inner.c.started == 1, freed.c.id.is_not(None))
        columns.append(_count_if(both).label("independent"))
    keys = [inner.c[name] for name in names]
    statement = select(*keys, *columns).select_from(source).group_by(*keys)
    return _rows(session, statement)


def _owned(statement: Select[Any], scope: ReportScope, owner: Any) -> Select[Any]:
    """A provider's report counts its own rows only (``owner`` is the column naming it)."""
    if scope.provider_org_id is None:
        return statement
    return statement.where(owner == scope.provider_org_id)


def _grouped_counts(
    session: Session,
    table: Table,
    scope: ReportScope,
    group_by: Iterable[str],
    owner: Any,
    measures: Iterable[Any],
    where: Iterable[ColumnElement[bool]],
) -> list[dict[str, Any]]:
    """One row of ``measures`` per group of a read-model table's rows ``where`` holds."""
    keys = [table.c[name] for name in group_by]
    statement = select(*keys, *measures).select_from(table).where(*where).group_by(*keys)
    return _rows(session, _owned(statement, scope, owner))


def opportunity_counts(
    session: Session, scope: ReportScope, group_by: Iterable[str] = ()
) -> list[dict[str, Any]]:
    o = OPPORTUNITIES
    measures = [
        func.count().label("opportunities"),
        func.coalesce(func.sum(o.c.slots), 0).label("slots"),
    ]
    where = [
        _by(o.c.opened_at, scope),
        _not_by(o.c.cancelled_at, scope),
        *in_region(scope.region, o.c.district_code, o.c.location_village_code),
    ]
    return _grouped_counts(session, o, scope, group_by, o.c.provider_org_id, measures, where)


def follow_up_counts(
    session: Session, scope: ReportScope, group_by: Iterable[str] = ()
) -> list[dict[str, Any]]:
    f = FOLLOW_UPS
    where = _in_region(f, scope.region)
    if scope.cutoff is not None:
        where.append(f.c.visited_on <= scope.as_of)
    measures = [func.count().label("follow_ups")]
    return _grouped_counts(session, f, scope, group_by, f.c.organisation_id, measures, where)


def target_totals(session: Session, region: str | None) -> dict[str, int] | None:
    t = TARGETS
    statement = select(
        func.count().label("districts"),
        func.coalesce(func.sum(t.c.residents_to_place), 0).label("residents_to_place"),
        func.coalesce(func.sum(t.c.residents_to_become_independent), 0).label(
            "residents_to_become_independent"
        ),
    )
    if region is not None and level_of(region) == "village":
        return None  # targets are set per district
    # The standing targets: a cohort's are its cohort report's (services/reporting/cohorts).
    statement = statement.where(
        t.c.cohort_code == STANDING, *in_region(region, t.c.district_code, None)
    )
    row = session.execute(statement).one()
    if not row.districts:
        return None
    return {
        "residents_to_place": int(row.residents_to_place),
        "residents_to_become_independent": int(row.residents_to_become_independent),
    }


# -- suppression and ratios ---------------------------------------------------------------------
# A cell of the cube every report for a suppressing caller is cut from: (measure, where, split).
# ``where`` is None (everything), a district or a village code, the regions a caller can filter
# by; ``split`` is () for the whole, or ("kind", kind), ("provider", id, type), ("sex", key) ...
Cell = tuple[str, str | None, tuple[str, ...]]
BREAKDOWN_COLUMNS = {
    "sex": "sex",
    "age_band": "age_band",
    "education_level": "education_level",
    "welfare_decile": "welfare_decile",
    "disability": "has_disability",
}
PLACEMENT_MEASURES = (*PLACEMENT_STAGES, "slots_filled", "capital_recipients", "independent")
PLACEMENT_SPLITS: tuple[tuple[str, ...], ...] = (
    (),
    ("kind",),
    ("provider_org_id", "provider_org_type"),
)
GEO_LEVELS: tuple[tuple[str, ...], ...] = (
    (),
    ("district_code",),
    ("district_code", "village_code"),
)


def breakdown_key(name: str, value: Any) -> str:
    """How the summary names a breakdown's category."""
    if name == "disability":
        return "yes" if value else "no"
    if name == "age_band":
        return str(value)
    return str(value or "unknown")


@dataclass(frozen=True, slots=True)
class Disclosure:
    """Which cells a caller may see. Every table a suppressing caller reads is masked by one
    ``Disclosure`` of the whole cube (all regions, all splits, as of the same day), so a cell
    hidden in one table is hidden in every other table that shows it, and no group of cells
    that add up (rules.suppress) has a single hidden one to subtract back."""

    threshold: int
    hidden: frozenset[Cell] = frozenset()

    def show(
        self, measure: str, where: str | None, value: int, split: tuple[str, ...] = ()
    ) -> int | None:
        if self.threshold <= 1:
            return value
        if (measure, where, split) in self.hidden or primary(value, self.threshold):
            return None
        return value


def _cube(session: Session, scope: ReportScope) -> tuple[dict[Cell, int], list[Group[Cell]]]:
    """Every count a caller can read in any report of ``scope.as_of``, and how they add up."""
    whole = replace(scope, region=None, provider_org_id=None)
    counts: dict[Cell, int] = defaultdict(int)
    villages: dict[str, set[str]] = defaultdict(set)

    def up(row: Mapping[str, Any]) -> tuple[str | None, ...]:
        district, village = row["district_code"], row["village_code"]
        villages[district].add(village)
        return (None, district, village)

    def placement_split(row: Mapping[str, Any], split_by: tuple[str, ...]) -> tuple[str, ...]:
        if split_by == ("kind",):
            return ("kind", str(row["kind"]))
        if split_by:
            return ("provider", str(row["provider_org_id"]), str(row["provider_org_type"]))
        return ()

    where: str | None
    split: tuple[str, ...]
    # Residents and follow-ups are rows of one village each: the village counts add up exactly.
    for row in resident_counts(session, whole, ("district_code", "village_code")):
        for where in up(row):
            for name in RESIDENT_COUNTS:
                counts[(f"residents.{name}", where, ())] += int(row[name])
    for name, column in BREAKDOWN_COLUMNS.items():
        for row in resident_counts(session, whole, ("district_code", "village_code", column)):
            split = (name, breakdown_key(name, row[column]))
            for where in up(row):
                counts[("residents.in_target_group", where, split)] += int(row["in_target_group"])
    for row in follow_up_counts(session, whole, ("district_code", "village_code")):
        for where in up(row):
            counts[("follow_ups", where, ())] += int(row["follow_ups"])
    # Placements count distinct residents: each level is counted, not summed up.
    for split_by in PLACEMENT_SPLITS:
        for level in GEO_LEVELS:
            for row in placement_counts(session, whole, (*level, *split_by), independent=True):
                where = None
                if len(level) == 2:
                    where = up(row)[-1]
                elif level:
                    where = row["district_code"]
                    villages.setdefault(where, set())
                split = placement_split(row, split_by)
                for name in PLACEMENT_MEASURES:
                    counts[(f"placements.{name}", where, split)] += int(row[name] or 0)

    # The groups: each region is the sum of the regions in it, each whole the sum of its splits.
    splits: dict[tuple[str, str | None], dict[str, list[Cell]]] = defaultdict(
        lambda: defaultdict(list)
    )
    present: dict[tuple[str, tuple[str, ...]], set[str | None]] = defaultdict(set)
    for cell in counts:
        measure, where, split = cell
        present[(measure, split)].add(where)
        if split:
            splits[(measure, where)][split[0]].append(cell)
    groups: list[Group[Cell]] = []
    for (measure, split), wheres in present.items():
        districts = [d for d in sorted(villages) if d in wheres]
        groups.append(Group((measure, None, split), [(measure, d, split) for d in districts]))
        for district in districts:
            in_district: list[Cell] = [
                (measure, v, split) for v in sorted(villages[district]) if v in wheres
            ]
            groups.append(Group((measure, district, split), in_district))
    for (measure, where), by_name in splits.items():
        for parts in by_name.values():
            groups.append(Group((measure, where, ()), parts))
    return dict(counts), groups


def disclosure(session: Session, scope: ReportScope) -> Disclosure:
    """The caller's mask, computed once per request (every table of an XLSX shares it)."""
    if scope.suppress_below <= 1:
        return Disclosure(scope.suppress_below)
    cache: dict[ReportScope, Disclosure] = session.info.setdefault("disclosure", {})
    whole = replace(scope, region=None, provider_org_id=None)
    if whole not in cache:
        counts, groups = _cube(session, whole)
        hidden = suppress(counts, groups, scope.suppress_below)
        cache[whole] = Disclosure(scope.suppress_below, hidden)
    return cache[whole]


def ratio(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator / denominator, 4)


def _int(row: Mapping[str, Any] | None, name: str) -> int:
    return int(row[name] or 0) if row else 0


def _placement_block(
    row: Mapping[str, Any] | None,
    mask: Disclosure,
    where: str | None,
    split: tuple[str, ...] = (),
) -> dict[str, int | None]:
    def show(name: str) -> int | None:
        return mask.show(f"placements.{name}", where, _int(row, name), split)

    block = {name: show(name) for name in PLACEMENT_STAGES}
    block["slots_filled"] = show("slots_filled")
    recipients = show("capital_recipients")
    # A rupiah sum of fewer than `threshold` recipients would reveal what each received.
    block["capital_disbursed_idr"] = (
        None if recipients is None else _int(row, "capital_disbursed_idr")
    )
    return block


# -- reports ------------------------------------------------------------------------------------
def summary(session: Session, scope: ReportScope) -> dict[str, Any]:
    mask = disclosure(session, scope)
    where = scope.region
    residents: dict[str, Any] | None = None
    if scope.residents_visible:
        profile = resident_counts(session, scope, PROFILE)
        totals = {name: sum(int(row[name]) for row in profile) for name in RESIDENT_COUNTS}
        by: dict[str, dict[str, int]] = {name: defaultdict(int) for name in BREAKDOWNS}
        for row in profile:
            if not row["is_in_target_group"]:
                continue
            for name, column in BREAKDOWN_COLUMNS.items():
                by[name][breakdown_key(name, row[column])] += int(row["registered"])
        residents = {
            name: mask.show(f"residents.{name}", where, totals[name]) for name in RESIDENT_COUNTS
        }
        # Graduated (issue 15): independent by the registry's graduation rule, in force now.
        residents["graduated"] = residents["independent"]
        residents["in_target_group_by"] = {
            name: {
                key: mask.show("residents.in_target_group", where, value, (name, key))
                for key, value in sorted(counts.items())
            }
            for name, counts in by.items()
        }

    offered = opportunity_counts(session, scope, ("kind", "provider_org_type"))
    by_kind: dict[str, dict[str, int]] = {k: {"opportunities": 0, "slots": 0} for k in KINDS}
    by_type: dict[str, dict[str, int]] = {}
    for row in offered:
        for bucket in (
            by_kind.setdefault(row["kind"], {"opportunities": 0, "slots": 0}),
            by_type.setdefault(row["provider_org_type"], {"opportunities": 0, "slots": 0}),
        ):
            bucket["opportunities"] += int(row["opportunities"])
            bucket["slots"] += int(row["slots"])
    opportunities = {
        "opportunities": sum(b["opportunities"] for b in by_kind.values()),
        "slots": sum(b["slots"] for b in by_kind.values()),
        "by_kind": by_kind,
        "by_provider_type": dict(sorted(by_type.items())),
    }

    per_kind = {row["kind"]: row for row in placement_counts(session, scope, ("kind",))}
    total = placement_counts(session, scope, independent=True)[0]
    placements = {
        "total": _placement_block(total, mask, where),
        "by_kind": {
            kind: _placement_block(per_kind.get(kind), mask, where, ("kind", kind))
            for kind in dict.fromkeys([*KINDS, *sorted(per_kind)])
        },
    }
    funnel_counts = {
        name: mask.show(f"placements.{name}", where, _int(total, name)) for name in FUNNEL
    }
    funnel: dict[str, dict[str, Any]] = {}
    previous: int | None = None
    for index, stage in enumerate(FUNNEL):
        funnel[stage] = {
            "residents": funnel_counts[stage],
            "ratio_to_previous": None if index == 0 else ratio(funnel_counts[stage], previous),
        }
        previous = funnel_counts[stage]

    follow_ups = follow_up_counts(session, scope)
    recorded = _int(follow_ups[0] if follow_ups else None, "follow_ups")
    targets = None
    if scope.provider_org_id is None:
        plan = target_totals(session, scope.region)
        if plan is not None:
            placed = funnel_counts["accepted"]
            independent = residents["independent"] if residents else None
            targets = {
                **plan,
                "residents_placed": placed,
                "placement_progress": ratio(placed, plan["residents_to_place"]),
                "residents_independent": independent,
                "independence_progress": ratio(
                    independent, plan["residents_to_become_independent"]
                ),
            }
    return {
        "as_of": scope.as_of.isoformat(),
        "region": scope.region,
        "provider_org_id": scope.provider_org_id,
        "suppressed_below": scope.suppress_below or None,
        "residents": residents,
        "opportunities": opportunities,
        "placements": placements,
        "follow_ups_recorded": mask.show("follow_ups", where, recorded),
        "funnel": funnel,
        "targets": targets,
    }


def _villages_in_scope(scope: ReportScope, regency_code: str) -> list[str]:
    if scope.provider_org_id is not None:
        return []
    area = scope.region or regency_code
    if level_of(area) == "village":
        return [area]
    districts = (
        [area]
        if level_of(area) == "district"
        else [d.code for d in children_of(area) if d.level == "district"]
    )
    return [v.code for d in districts for v in children_of(d) if v.level == "village"]


def _name(code: str | None) -> str | None:
    region = get_region(code) if code else None
    return region.name if region else None


def village_rows(session: Session, scope: ReportScope, regency_code: str) -> list[dict[str, Any]]:
    """A row per village: the reference villages in scope, and any other with data."""
    mask = disclosure(session, scope)
    residents = (
        {row["village_code"]: row for row in resident_counts(session, scope, ("village_code",))}
        if scope.residents_visible
        else {}
    )
    placements = {
        row["village_code"]: row for row in placement_counts(session, scope, ("village_code",))
    }
    follow_ups = {
        row["village_code"]: row for row in follow_up_counts(session, scope, ("village_code",))
    }
    codes = sorted({*_villages_in_scope(scope, regency_code), *residents, *placements, *follow_ups})
    rows = []
    for code in codes:
        district = district_of(code)
        resident = residents.get(code)
        row: dict[str, Any] = {
            "district_code": district,
            "district_name": _name(district),
            "village_code": code,
            "village_name": _name(code),
        }
        shown = {
            name: mask.show(f"residents.{name}", code, _int(resident, name))
            if scope.residents_visible
            else None
            for name in RESIDENT_COUNTS
        }
        for name in RESIDENT_COUNTS[:4]:
            row[name] = shown[name]
        row.update(_placement_block(placements.get(code), mask, code))
        row["follow_ups"] = mask.show("follow_ups", code, _int(follow_ups.get(code), "follow_ups"))
        row["independent"] = shown["independent"]
        row["graduated"] = shown["independent"]
        rows.append(row)
    return rows


def district_funnels(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    """The funnel per district, for the workbook's charts."""
    mask = disclosure(session, scope)
    rows = placement_counts(session, scope, ("district_code",), independent=True)
    return [
        {
            "district_code": row["district_code"],
            "district_name": _name(row["district_code"]),
            **{
                stage: mask.show(f"placements.{stage}", row["district_code"], _int(row, stage))
                for stage in FUNNEL
            },
        }
        for row in sorted(rows, key=lambda r: r["district_code"])
    ]


def provider_rows(session: Session, scope: ReportScope) -> list[dict[str, Any]]:
    mask = disclosure(session, scope)
    offered = {
        (row["provider_org_id"], row["provider_org_type"]): row
        for row in opportunity_counts(session, scope, ("provider_org_id", "provider_org_type"))
    }
    placed = {
        (row["provider_org_id"], row["provider_org_type"]): row
        for row in placement_counts(session, scope, ("provider_org_id", "provider_org_type"))
    }
    rows = []
    for org_id, org_type in sorted({*offered, *placed}):
        opportunity = offered.get((org_id, org_type))
        placement = placed.get((org_id, org_type))
        split = ("provider", str(org_id), str(org_type))
        shown = {
            name: mask.show(f"placements.{name}", scope.region, _int(placement, name), split)
            for name in ("slots_filled", "started", "completed", "dropped")
        }
        rows.append(
            {
                "provider_org_id": org_id,
                "provider_org_type": org_type,
                "opportunities": _int(opportunity, "opportunities"),
                "slots_offered": _int(opportunity, "slots"),
                **shown,
            }
        )
    return rows


def _distinct(session: Session, column: Any, *where: ColumnElement[bool]) -> int:
    """How many distinct values: a GROUP BY counted, which hashes instead of sorting."""
    grouped = select(column).where(*where).group_by(column).subquery()
    return int(session.execute(select(func.count()).select_from(grouped)).scalar_one())


def stage_measures(session: Session) -> dict[str, int]:
    """The measured progress of the programme's stages, over everything."""
    r, o, p, f, t = RESIDENTS, OPPORTUNITIES, PLACEMENTS, FOLLOW_UPS, TARGETS
    one = literal(1)
    return {
        "districts_with_targets": _distinct(session, t.c.district_code),
        "villages_with_data": _distinct(session, r.c.village_code, r.c.removed_at.is_(None)),
        "residents_verified": session.execute(
            select(func.count(one)).where(r.c.verified_at.is_not(None), r.c.removed_at.is_(None))
        ).scalar_one(),
        "stakeholders_publishing": _distinct(
            session, o.c.provider_org_id, o.c.opened_at.is_not(None), o.c.cancelled_at.is_(None)
        ),
        "residents_placed": _distinct(session, p.c.resident_id, p.c.accepted_at.is_not(None)),
        "follow_ups_recorded": session.execute(select(func.count(one)).select_from(f)).scalar_one(),
        "residents_independent": session.execute(
            select(func.count(one)).where(r.c.independent_at.is_not(None), r.c.removed_at.is_(None))
        ).scalar_one(),
    }


def villages_in_target_districts(session: Session) -> int:
    codes = session.execute(select(TARGETS.c.district_code).distinct()).scalars()
    return sum(len([v for v in children_of(code) if v.level == "village"]) for code in codes)


def as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
