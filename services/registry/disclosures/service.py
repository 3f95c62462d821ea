"""Recording that a provider may see a resident (called by matching on an accepted placement)."""

from __future__ import annotations

import anyio
import httpx
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry.audit.service import record_access
from services.registry.disclosures.models import Disclosure, DisclosureCreate
from services.registry.disclosures.proof import PlacementProof, fetch_proof
from services.registry.residents.models import Resident
from services.registry.residents.service import CONSENT_WITHHELD, consent_word, new_id
from shared.kit.database import Database, insert_once
from shared.kit.problems import NotFound, UnprocessableEntity
from shared.kit.time import utcnow
from shared.kit.tokens import Principal


def _find(session: Session, resident_id: str, data: DisclosureCreate) -> Disclosure | None:
    return session.scalars(
        select(Disclosure).where(
            col(Disclosure.resident_id) == resident_id,
            col(Disclosure.org_id) == data.org_id,
            col(Disclosure.placement_id) == data.placement_id,
        )
    ).first()


# The placement statuses a resident reaches only by accepting it: the acceptance is the consent.
CONSENTED_STATUSES = frozenset({"accepted", "started", "completed"})


def check_proof(proof: PlacementProof | None, resident_id: str, data: DisclosureCreate) -> None:
    """The disclosure must name a placement matching holds, of that organisation and that
    resident, that the resident accepted: a service token alone opens no one to anyone."""
    if (
        proof is None
        or proof.org_id != data.org_id
        or proof.resident_id != resident_id
        or proof.status not in CONSENTED_STATUSES
    ):
        raise UnprocessableEntity(
            "placement_id",
            "not a placement this resident accepted with this organisation",
            reason="not_a_placement",
        )


def disclose(
    session: Session,
    principal: Principal,
    resident_id: str,
    data: DisclosureCreate,
    proof: PlacementProof | None,
) -> tuple[Disclosure, bool]:
    """The disclosure and whether it is new; a retry returns the first record unchanged.
    ``proof``: the placement as matching holds it (None: matching knows no such placement)."""
    # Shared lock: a consent withdrawal (which locks the row for update) commits either
    # before this check sees it or after this disclosure is recorded, never in between.
    resident = session.get(Resident, resident_id, with_for_update={"read": True})
    if resident is None or resident.erased_at is not None:
        raise NotFound("no such resident")
    if consent_word(resident) in CONSENT_WITHHELD:
        # A refusal or withdrawal outranks the acceptance that asked for this disclosure,
        # a retry included: nobody is opened to a provider against the resident's word.
        raise UnprocessableEntity(
            ["path", "resident_id"],
            "the resident refused or withdrew consent; no disclosure is recorded",
            reason="no_consent",
        )
    existing = _find(session, resident_id, data)
    if existing is not None:
        # Checked against its placement when it was recorded.
        return existing, False
    check_proof(proof, resident.id, data)
    disclosure = Disclosure(
        id=new_id(),
        resident_id=resident_id,
        recorded_by=principal.org_id,
        created_at=utcnow(),
        **data.model_dump(),
    )
    # The same disclosure may have been recorded by a concurrent retry.
    existing = insert_once(session, disclosure, lambda: _find(session, resident_id, data))
    if existing is not None:
        return existing, False
    # The grant itself is audited: to whom the resident's data was opened, and why.
    record_access(
        session,
        principal,
        [resident_id],
        action="disclosure.grant",
        purpose=f"{data.purpose} {data.placement_id} for organisation {data.org_id}",
    )
    return disclosure, True


async def record(
    db: Database,
    matching: httpx.AsyncClient,
    authorization: str,
    principal: Principal,
    resident_id: str,
    data: DisclosureCreate,
) -> tuple[Disclosure, bool]:
    """Ask matching for the placement, then record the disclosure. Matching is asked before any
    session opens: no transaction (on SQLite, no write lock) is held while it answers."""
    proof = await fetch_proof(matching, data.placement_id, authorization)

    def unit_of_work() -> tuple[Disclosure, bool]:
        with db.session() as session:
            return disclose(session, principal, resident_id, data, proof)

    return await anyio.to_thread.run_sync(unit_of_work)
