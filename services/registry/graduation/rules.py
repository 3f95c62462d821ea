"""The graduation rule as data and a pure judgement of it, so anyone can read why a household
has, or has not yet, graduated (``GET /v1/residents/{id}/graduation``).

The default rule (settings ``REGISTRY_INDEPENDENCE_FOLLOW_UPS``, ``..._MIN_DAYS``,
``REGISTRY_POVERTY_LINE_IDR``, ``REGISTRY_GRADUATION_VERIFIED_VISITS``): in the household's
latest run of visits above the poverty line (income per member; a visit at or below the line
ends a run), at least two visits at least 90 days apart, at least one of them not the
resident's own word (``self_report``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from services.registry.follow_ups.models import SELF_REPORT


@dataclass(frozen=True, slots=True)
class Rule:
    version: str
    min_visits: int
    min_days: int
    poverty_line_idr: int
    min_verified_visits: int


@dataclass(frozen=True, slots=True)
class Visit:
    """What the rule reads of a visit of any member of the household."""

    id: str
    resident_id: str
    visited_on: date
    monthly_income_idr: int
    household_size: int
    income_per_member_idr: int
    income_source: str


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    holds: bool
    detail: str
    # What is missing for it to hold; None when it holds.
    missing: str | None


@dataclass(frozen=True, slots=True)
class Judgement:
    holds: bool
    conditions: list[Condition]
    # The visits the judgement rests on (the latest run above the line), oldest first.
    evidence: list[Visit]


def latest_run(visits: list[Visit], rule: Rule) -> list[Visit]:
    """The visits since the last one at or below the poverty line; ``visits`` oldest first."""
    run: list[Visit] = []
    for visit in visits:
        run = [*run, visit] if visit.income_per_member_idr > rule.poverty_line_idr else []
    return run


def judge(visits: list[Visit], rule: Rule) -> Judgement:
    """``visits``: the household's visits that count, oldest first."""
    run = latest_run(visits, rule)
    line = f"Rp {rule.poverty_line_idr:,} per member a month"
    enough = len(run) >= rule.min_visits
    span = (run[-1].visited_on - run[0].visited_on).days if run else 0
    long_enough = bool(run) and span >= rule.min_days
    due = run[0].visited_on + timedelta(days=rule.min_days) if run else None
    verified = [v for v in run if v.income_source != SELF_REPORT]
    confirmed = len(verified) >= rule.min_verified_visits
    conditions = [
        Condition(
            "visits_above_poverty_line",
            enough,
            f"{len(run)} of {rule.min_visits} visits in a row with income above {line}",
            None if enough else f"{rule.min_visits - len(run)} more visit(s) above {line}",
        ),
        Condition(
            "span_days",
            long_enough,
            f"those visits span {span} of {rule.min_days} days",
            None
            if long_enough
            else (
                f"a visit above the line on or after {due}"
                if due
                else "a first visit above the line"
            ),
        ),
        Condition(
            "verified_income",
            confirmed,
            f"{len(verified)} of {rule.min_verified_visits} of them with income not self-reported",
            None
            if confirmed
            else "a visit whose income a payslip, the employer or a business record confirms",
        ),
    ]
    holds = all(condition.holds for condition in conditions)
    return Judgement(holds, conditions, run)
