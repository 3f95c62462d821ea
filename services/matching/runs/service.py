"""Runs: queued by the API, claimed and executed by the worker, results persisted as proposals
(and, unless a dry run, placements in status ``proposed``)."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from services.matching.allocation.components import POLICIES, ComponentSolver, Problem, solve
from services.matching.allocation.engine import (
    GAIN_SCALE,
    ByVillage,
    Candidates,
    ResidentArrays,
    generate_candidates,
    justified_envy,
    merge_candidates,
    pair_contributions,
    sort_by_key,
    village_quotas,
)
from services.matching.eligibility.rules import OpportunityFacts, ResidentFacts, consent_withheld
from services.matching.eligibility.service import load_open_opportunities, load_residents
from services.matching.placements.service import ProposedPlacement, propose_placements
from services.matching.readmodel.models import ResidentView
from services.matching.runs.models import Proposal, ProposalPublic, Run, RunCreate, RunPublic
from services.matching.scoring.features import FEATURES, weight_vector
from services.matching.scoring.service import Policy
from services.matching.settings import MatchingSettings
from shared.kit.database import Database, rows_changed
from shared.kit.pagination import PageParams, decode_cursor, encode_cursor
from shared.kit.problems import NotFound, UnprocessableEntity
from shared.kit.time import as_utc, utcnow
from shared.kit.tokens import Principal

logger = logging.getLogger("sinergi.matching.runs")


@dataclass
class ProposedPair:
    resident: ResidentFacts
    opportunity: OpportunityFacts
    score: float
    features: dict[str, float]


@dataclass
class RoundResult:
    proposals: list[ProposedPair]
    statistics: dict[str, Any] = field(default_factory=dict)
    # The final candidate graph, when asked for (the benchmark times a bare solve of it).
    graph: tuple[Problem, Candidates] | None = None


def compute_round(
    residents: Sequence[ResidentFacts],
    opportunities: Sequence[OpportunityFacts],
    run_date: date,
    policy: Policy,
    *,
    per_component: bool = True,
    compare: bool = True,
    keep_graph: bool = False,
) -> RoundResult:
    """One round over facts that already pass the resident-only and opportunity-only rules.

    ``policy.allocation`` decides the proposals; unless ``compare`` is off, the other policy is
    solved over the same final candidates, so the statistics show the price of the choice.
    ``per_component`` off solves one global graph (kept for the benchmark's comparison)."""
    arrays = policy.round_arrays(residents, opportunities, run_date)
    per_resident = policy.max_proposals_per_resident
    weights = weight_vector(policy.weights)
    # Which opportunities each village reaches: found once for the round's passes.
    reach = ByVillage.of(arrays.residents, arrays.opportunities, arrays.village_codes)

    def top_k(
        among: ResidentArrays,
        only_opportunities: np.ndarray | None = None,
        only_residents: np.ndarray | None = None,
    ) -> Candidates:
        """Each resident's top K under the policy (one per kind when it may get several)."""
        return generate_candidates(
            among,
            arrays.resident_scores,
            arrays.opportunities,
            arrays.village_codes,
            weights,
            policy.top_k,
            one_per_kind=per_resident > 1,
            only_opportunities=only_opportunities,
            only_residents=only_residents,
            keep_contributions=False,
            by_village=reach,
        )

    def contributions(pairs: np.ndarray) -> np.ndarray:
        """The weighted contributions of the chosen pairs (the candidates carry none)."""
        return pair_contributions(
            arrays.residents,
            arrays.resident_scores,
            arrays.opportunities,
            candidates.resident[pairs],
            candidates.opportunity[pairs],
            weights,
        )

    candidates = top_k(arrays.residents)
    if per_component:
        # Sorted by (resident, opportunity) once (the first merge would sort them anyway):
        # merges keep that order and components are cut from it without another sort. The
        # global graph keeps the order it was solved in before issue 18.
        candidates = sort_by_key(candidates, len(arrays.opportunities))
    quota = None
    if policy.village_fair_share:
        quota = village_quotas(
            arrays.residents.village,
            arrays.village_district,
            candidates,
            arrays.opportunities.district,
            arrays.opportunities.capacity,
        )
    capacity = arrays.opportunities.capacity
    priority_key = arrays.residents.priority_key()
    problem = Problem(
        n_residents=len(residents),
        capacity=capacity,
        priority_key=priority_key,
        per_resident=per_resident,
        resident_village=arrays.residents.village if quota is not None else None,
        village_quota=quota,
    )
    solver = _solver(policy.allocation, problem, per_component)
    chosen = solver(candidates)
    # Top K per resident crowds onto the most attractive opportunities and can leave others
    # unfilled; a refill pass adds, for residents still free, their top K among the
    # opportunities with slots left, and the round solves again over the union (per
    # component, only the components the new pairs changed).
    for _ in range(policy.refill_passes):
        filled = np.bincount(candidates.opportunity[chosen], minlength=len(capacity))
        open_slots = filled < capacity
        assigned = np.bincount(candidates.resident[chosen], minlength=len(residents))
        free = assigned < per_resident
        if not open_slots.any() or not free.any():
            break
        refill_residents = arrays.residents
        if per_resident > 1:
            # Kinds a resident already has a candidate of count as held, so that the union
            # still offers each resident at most one candidate per kind.
            held = arrays.residents.active_kinds.copy()
            kind = arrays.opportunities.kind[candidates.opportunity].astype(np.int32)
            known = kind >= 0
            np.bitwise_or.at(
                held, candidates.resident[known], np.left_shift(1, kind[known]).astype(np.int32)
            )
            refill_residents = replace(arrays.residents, active_kinds=held)
        extra = top_k(refill_residents, only_opportunities=open_slots, only_residents=free)
        if len(extra) == 0:
            break
        before = int(chosen.sum())
        grows, candidates = candidates, merge_candidates(candidates, extra, len(capacity))
        chosen = (
            solver(candidates, grows=grows)
            if isinstance(solver, ComponentSolver)
            else solver(candidates)
        )
        del grows
        if int(chosen.sum()) <= before:
            break
    picked = np.flatnonzero(chosen)
    picked_contributions = contributions(picked)
    # Python floats in bulk (each exactly its float32), rounded as contributions_dict rounds.
    picked_scores = picked_contributions.sum(axis=1).tolist()
    proposals = [
        ProposedPair(
            resident=residents[r],
            opportunity=opportunities[o],
            score=round(score, 2),
            features={name: round(value, 2) for name, value in zip(FEATURES, row, strict=True)},
        )
        for r, o, score, row in zip(
            candidates.resident[picked].tolist(),
            candidates.opportunity[picked].tolist(),
            picked_scores,
            picked_contributions.tolist(),
            strict=True,
        )
    ]
    proposals.sort(key=lambda p: (-p.score, str(p.resident.id), str(p.opportunity.id)))
    by_kind = Counter(p.opportunity.kind for p in proposals)
    by_village = Counter(p.resident.village_code for p in proposals)
    statistics: dict[str, Any] = {
        "policy": policy.allocation,
        "residents_considered": len(residents),
        "opportunities_considered": len(opportunities),
        "slots_available": int(arrays.opportunities.capacity.sum()),
        "eligible_pairs": candidates.eligible_pairs,
        "candidate_pairs": len(candidates),
        "proposals": len(proposals),
        **outcome(candidates, chosen, picked_contributions, priority_key),
        "slots_filled_by_kind": dict(sorted(by_kind.items())),
        "slots_filled_by_village": dict(sorted(by_village.items())),
    }
    if isinstance(solver, ComponentSolver):
        statistics["components"] = {
            "count": solver.components,
            "solved": solver.solved,
            "reused": solver.reused,
        }
    if compare:
        other = next(p for p in POLICIES if p != policy.allocation)
        # Per component, the other policy's solver reuses the components of these pairs.
        other_solver = (
            solver.with_policy(other)
            if isinstance(solver, ComponentSolver)
            else _solver(other, problem, per_component)
        )
        other_chosen = other_solver(candidates)
        statistics["other_policy"] = {
            "policy": other,
            **outcome(
                candidates,
                other_chosen,
                contributions(np.flatnonzero(other_chosen)),
                priority_key,
            ),
        }
    if quota is not None:
        statistics["village_quota"] = {
            code: int(q)
            for code, q in zip(arrays.village_codes, quota, strict=True)
            if q < np.iinfo(np.int32).max
        }
    return RoundResult(proposals, statistics, (problem, candidates) if keep_graph else None)


def _solver(
    allocation: str, problem: Problem, per_component: bool
) -> Callable[[Candidates], np.ndarray]:
    if per_component:
        return ComponentSolver(allocation, problem)
    return partial(solve, allocation, problem)


def outcome(
    candidates: Candidates,
    chosen: np.ndarray,
    chosen_contributions: np.ndarray,
    priority_key: np.ndarray,
) -> dict[str, Any]:
    """What an allocation gives: places filled, total score (each proposal's score to two
    decimals, as proposals store it; ``chosen_contributions`` are the chosen pairs' in their
    order), priority-weighted total and justified envy."""
    scores = np.round(chosen_contributions.astype(np.float64).sum(axis=1), 2)
    return {
        "places_filled": int(chosen.sum()),
        "total_score": round(float(scores.sum()), 2),
        "total_weighted_score": round(float(candidates.gain[chosen].sum()) / GAIN_SCALE, 2),
        "justified_envy": justified_envy(candidates, chosen, priority_key),
    }


def create_run(
    session: Session,
    principal: Principal,
    body: RunCreate,
    settings: MatchingSettings,
    idempotency_key: str | None,
) -> tuple[Run, bool]:
    if idempotency_key:
        existing = session.scalars(
            select(Run).where(
                col(Run.requested_by_org) == principal.org_id,
                col(Run.idempotency_key) == idempotency_key,
            )
        ).first()
        if existing is not None:
            return existing, False
    policy = Policy.from_settings(settings, body.policy.model_dump())
    run = Run(
        status="queued",
        dry_run=body.dry_run,
        district_codes=body.district_codes,
        kinds=body.kinds,
        policy=policy.as_dict(),
        run_date=body.run_date or date.today(),
        requested_by_org=principal.org_id,
        requested_by_type=principal.org_type,
        idempotency_key=idempotency_key,
        created_at=utcnow(),
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError as exc:  # the same key raced in: the client retries and finds it
        raise UnprocessableEntity(
            ["header", "Idempotency-Key"], "a run with this key is being created; retry"
        ) from exc
    return run, True


def to_public(run: Run) -> RunPublic:
    public = RunPublic.model_validate(run, from_attributes=True)
    public.created_at = as_utc(public.created_at)
    public.started_at = as_utc(public.started_at)
    public.finished_at = as_utc(public.finished_at)
    return public


def get_run(session: Session, run_id: uuid.UUID) -> Run:
    run = session.get(Run, run_id)
    if run is None:
        raise NotFound("no such run")
    return run


def list_proposals(
    session: Session, run_id: uuid.UUID, page: PageParams
) -> tuple[list[ProposalPublic], str | None]:
    get_run(session, run_id)
    statement = select(Proposal).where(col(Proposal.run_id) == run_id)
    if page.cursor:
        (after,) = decode_cursor(page.cursor, 1)
        if not isinstance(after, int):
            raise UnprocessableEntity(["query", "cursor"], "not a cursor this endpoint issued")
        statement = statement.where(col(Proposal.rank) > after)
    rows = list(session.scalars(statement.order_by(col(Proposal.rank)).limit(page.limit + 1)))
    next_cursor = None
    if len(rows) > page.limit:
        rows = rows[: page.limit]
        next_cursor = encode_cursor([rows[-1].rank])
    return [ProposalPublic.model_validate(r, from_attributes=True) for r in rows], next_cursor


def claim_next(db: Database) -> uuid.UUID | None:
    """Take the oldest queued run; the conditional UPDATE lets one worker win it."""
    with db.session() as session:
        run_id = session.scalars(
            select(col(Run.id))
            .where(col(Run.status) == "queued")
            .order_by(col(Run.created_at))
            .limit(1)
        ).first()
        if run_id is None:
            return None
        claimed = rows_changed(
            session.execute(
                update(Run)
                .where(col(Run.id) == run_id, col(Run.status) == "queued")
                .values(status="running", started_at=utcnow())
            )
        )
        return run_id if claimed == 1 else None


def fail_interrupted(db: Database) -> int:
    """Runs left ``running`` by a process that stopped cannot finish: mark them failed."""
    with db.session() as session:
        return rows_changed(
            session.execute(
                update(Run)
                .where(col(Run.status) == "running")
                .values(status="failed", error="interrupted by a restart", finished_at=utcnow())
            )
        )


def execute_run(db: Database, run_id: uuid.UUID) -> None:
    started = time.perf_counter()
    try:
        with db.session(write=False) as session:
            run = get_run(session, run_id)
            policy = Policy(
                **{**run.policy, "eligible_statuses": tuple(run.policy["eligible_statuses"])}
            )
            residents = load_residents(
                session,
                district_codes=run.district_codes,
                eligible_statuses=list(policy.eligible_statuses),
            )
            opportunities = load_open_opportunities(session, run.run_date, kinds=run.kinds)
        result = compute_round(residents, opportunities, run.run_date, policy)
        with db.session() as session:
            _persist(session, run, result)
            result.statistics["duration_seconds"] = round(time.perf_counter() - started, 3)
            session.execute(
                update(Run)
                .where(col(Run.id) == run_id)
                .values(status="succeeded", statistics=result.statistics, finished_at=utcnow())
            )
    except Exception as exc:
        logger.exception("run %s failed", run_id)
        with db.session() as session:
            session.execute(
                update(Run)
                .where(col(Run.id) == run_id)
                .values(status="failed", error=type(exc).__name__, finished_at=utcnow())
            )


def _still_consenting(
    session: Session, proposals: list[ProposedPair], chunk_size: int
) -> list[ProposedPair]:
    """The proposals whose resident did not refuse or withdraw consent since the round read
    them. The rows are share-locked until the run commits: a withdrawal applied from the feed
    meanwhile either is seen here or waits, then finds these placements and ends them."""
    ids = list(dict.fromkeys(p.resident.id for p in proposals))
    withheld: set[uuid.UUID] = set()
    for start in range(0, len(ids), chunk_size):
        rows = session.execute(
            select(col(ResidentView.id), col(ResidentView.consent))
            .where(col(ResidentView.id).in_(ids[start : start + chunk_size]))
            .with_for_update(read=True)
        )
        withheld.update(resident_id for resident_id, consent in rows if consent_withheld(consent))
    return [p for p in proposals if p.resident.id not in withheld]


def _persist(session: Session, run: Run, result: RoundResult, *, chunk_size: int = 1000) -> None:
    kept = _still_consenting(session, result.proposals, chunk_size)
    if len(kept) != len(result.proposals):
        result.statistics["withdrawn_before_persisting"] = len(result.proposals) - len(kept)
        result.proposals = kept
    placement_ids: list[uuid.UUID | None] = [None] * len(result.proposals)
    if not run.dry_run:
        placement_ids = list(
            propose_placements(
                session,
                [
                    ProposedPlacement(pair.resident, pair.opportunity.id, pair.score)
                    for pair in result.proposals
                ],
                org_id=run.requested_by_org,
                org_type=run.requested_by_type,
                run_id=run.id,
                chunk_size=chunk_size,
            )
        )
    rows = [
        {
            "id": uuid.uuid4(),
            "run_id": run.id,
            "rank": rank,
            "resident_id": pair.resident.id,
            "opportunity_id": pair.opportunity.id,
            "kind": pair.opportunity.kind,
            "village_code": pair.resident.village_code,
            "score": pair.score,
            "features": pair.features,
            "placement_id": placement_id,
        }
        for rank, (pair, placement_id) in enumerate(
            zip(result.proposals, placement_ids, strict=True), start=1
        )
    ]
    for start in range(0, len(rows), chunk_size):
        session.execute(insert(Proposal), rows[start : start + chunk_size])
