"""A round's placements written set-based (``propose_placements``) against the per-row path
(``new_placement``, as runs persisted them before and direct placements still do): the same
placements, history rows, proposals and change-feed events, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select

from services.matching.eligibility.rules import OpportunityFacts, ResidentFacts
from services.matching.placements.models import Placement, PlacementTransition
from services.matching.placements.service import new_placement
from services.matching.readmodel.models import OpportunityView
from services.matching.runs.models import Proposal, Run
from services.matching.runs.service import ProposedPair, RoundResult, _persist
from services.matching.tables import feed_tables
from shared.kit.database import Database

RUN_ID = uuid.uuid4()
JOB = uuid.uuid4()
CAPITAL = uuid.uuid4()
RESIDENTS = [uuid.uuid4() for _ in range(5)]


def _round() -> RoundResult:
    opportunities = {
        JOB: OpportunityFacts(id=JOB, kind="job", provider_org_id="org-company-1", status="open"),
        CAPITAL: OpportunityFacts(
            id=CAPITAL, kind="business_capital", provider_org_id="org-bank-1", status="open"
        ),
    }
    pairs = []
    for index, resident_id in enumerate(RESIDENTS):
        village = f"63.02.17.200{index % 2 + 2}"
        resident = ResidentFacts(
            id=resident_id,
            village_code=village,
            district_code="63.02.17",
            regency_code="63.02",
            status="verified",
            in_target_group=True,
        )
        pairs.append(
            ProposedPair(
                resident=resident,
                opportunity=opportunities[JOB if index < 3 else CAPITAL],
                score=90.5 - index,
                features={"skills_match": 30.0, "welfare_decile": 60.5 - index},
            )
        )
    return RoundResult(proposals=pairs)


def _seed(url: str) -> Database:
    db = Database(url)
    now = datetime.now(UTC)
    with db.session() as session:
        common: dict[str, Any] = {
            "version": 1,
            "title": "t",
            "slots": 5,
            "status": "open",
            "skills_required": [],
            "skills_taught": [],
            "eligible_area_codes": [],
            "updated_at": now,
        }
        session.execute(
            insert(OpportunityView),
            [
                {
                    **common,
                    "id": JOB,
                    "provider_org_id": "org-company-1",
                    "provider_org_type": "company",
                    "kind": "job",
                    "grant_amount_idr": None,
                },
                {
                    **common,
                    "id": CAPITAL,
                    "provider_org_id": "org-bank-1",
                    "provider_org_type": "bank",
                    "kind": "business_capital",
                    "grant_amount_idr": 5_000_000,
                },
            ],
        )
        session.add(
            Run(
                id=RUN_ID,
                status="running",
                run_date=date(2026, 9, 1),
                requested_by_org="org-agency-1",
                requested_by_type="labour_agency",
                created_at=now,
            )
        )
    return db


def _persist_per_row(db: Database, result: RoundResult) -> None:
    """The per-row persistence runs used before: one ``new_placement`` per proposal, and its
    proposal written as one ORM row (not the bulk insert the set-based path uses)."""
    with db.session() as session:
        run = session.get(Run, RUN_ID)
        assert run is not None
        for rank, pair in enumerate(result.proposals, start=1):
            opportunity = session.get(OpportunityView, pair.opportunity.id)
            assert opportunity is not None
            placement = new_placement(
                session,
                resident=pair.resident,
                opportunity=opportunity,
                status="proposed",
                org_id=run.requested_by_org,
                org_type=run.requested_by_type,
                run_id=run.id,
                score=pair.score,
            )
            session.add(
                Proposal(
                    run_id=run.id,
                    rank=rank,
                    resident_id=pair.resident.id,
                    opportunity_id=pair.opportunity.id,
                    kind=pair.opportunity.kind,
                    village_code=pair.resident.village_code,
                    score=pair.score,
                    features=pair.features,
                    placement_id=placement.id,
                )
            )


def _persist_bulk(db: Database, result: RoundResult) -> None:
    with db.session() as session:
        run = session.get(Run, RUN_ID)
        assert run is not None
        # Chunks of two over five proposals: the last chunk is a partial one.
        _persist(session, run, result, chunk_size=2)


def _snapshot(db: Database, postgres: bool) -> dict[str, Any]:
    """Every written row with generated ids replaced by the placement's (resident,
    opportunity) pair and timestamps by whether they are the placement's proposal time."""
    with db.session(write=False) as session:
        placements = list(session.scalars(select(Placement)))
        pair = {p.id: (str(p.resident_id), str(p.opportunity_id)) for p in placements}
        proposed_at = {p.id: p.proposed_at for p in placements if p.proposed_at is not None}
        placement_rows = {}
        for p in placements:
            row = p.model_dump()
            assert row.pop("created_at") == p.proposed_at is not None
            row["id"] = pair[row["id"]]
            row["proposed_at"] = row["proposed_at"] is not None
            row["offered_at"] = row["offered_at"] is not None
            placement_rows[pair[p.id]] = row
        history = sorted(
            (
                pair[h.placement_id],
                h.from_status,
                h.to_status,
                h.version,
                h.org_id,
                h.org_type,
                h.at == proposed_at[h.placement_id],
            )
            for h in session.scalars(select(PlacementTransition))
        )
        outbox = session.execute(
            select(feed_tables.outbox).order_by(feed_tables.outbox.c.id)
        ).mappings()
        changes = []
        txids = set()
        for change in outbox:
            placement_id = uuid.UUID(change["entity_id"])
            payload = dict(change["payload"])
            assert payload["id"] == change["entity_id"]
            assert (
                payload.pop("proposed_at")
                == proposed_at[placement_id].replace(tzinfo=UTC).isoformat()
            )
            payload["id"] = pair[placement_id]
            changes.append((change["entity"], change["event"], change["version"], payload))
            txids.add(change["txid"])
        # One transaction writes them all, and the feed sees it as one.
        assert len(txids) == 1 and (0 not in txids) == postgres
        proposals = [
            (
                p.rank,
                str(p.resident_id),
                str(p.opportunity_id),
                p.kind,
                p.village_code,
                p.score,
                p.features,
                pair[p.placement_id] if p.placement_id else None,
            )
            for p in session.scalars(select(Proposal).order_by(Proposal.rank))  # type: ignore[arg-type]
        ]
    return {
        "placements": placement_rows,
        "history": history,
        "changes": changes,
        "proposals": proposals,
    }


def test_bulk_persistence_writes_what_the_per_row_path_writes(backend, databases) -> None:  # type: ignore[no-untyped-def]
    result = _round()
    per_row = _seed(databases.new(backend, "matching"))
    bulk = _seed(databases.new(backend, "matching"))
    try:
        _persist_per_row(per_row, result)
        _persist_bulk(bulk, result)
        postgres = backend == "postgresql"
        expected = _snapshot(per_row, postgres)
        actual = _snapshot(bulk, postgres)
    finally:
        per_row.engine.dispose()
        bulk.engine.dispose()
    assert len(expected["placements"]) == len(expected["changes"]) == 5
    assert expected["changes"][3][3]["grant_amount_idr"] == 5_000_000
    assert [c[3]["resident_id"] for c in expected["changes"]] == [str(r) for r in RESIDENTS]
    assert actual == expected
