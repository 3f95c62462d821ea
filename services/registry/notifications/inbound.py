"""A resident's own message, as the SMS gateway passes it on: ``YA <code>`` or ``TIDAK <code>``
answers the offer that carried the code, when it comes from the number the offer went to;
``ADUAN <text>`` opens a complaint; anything else gets a polite reply. A ``message_id`` seen
before is a replay and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass

import anyio
import httpx
from sqlalchemy.orm import Session
from sqlmodel import col, select

from services.registry.grievances import service as grievances
from services.registry.notifications import service
from services.registry.notifications.models import InboundBody, InboundMessage, InboundReply
from services.registry.notifications.replies import Decision, send_decision
from services.registry.notifications.rules import parse_reply, render
from services.registry.residents.models import Resident, normalise_phone
from services.registry.settings import RegistrySettings
from shared.kit.database import Database, insert_once
from shared.kit.time import utcnow


@dataclass(frozen=True)
class Plan:
    """What a message asks for, read before anything is written or matching is asked."""

    outcome: str
    reply: str | None = None
    placement_id: str | None = None
    resident_id: str | None = None


def _text(settings: RegistrySettings, name: str, **values: str) -> str:
    return render(service.templates(), name, settings.notify_language, values)


def _phone(sender: str) -> str | None:
    try:
        return normalise_phone(sender)
    except ValueError:
        return None


def plan(session: Session, body: InboundBody, settings: RegistrySettings) -> Plan:
    if session.get(InboundMessage, body.message_id) is not None:
        return Plan("replay")
    reply = parse_reply(body.text)
    phone = _phone(body.sender)
    if reply.kind in ("accept", "decline"):
        offer = service.offer_for_reply(session, reply.argument)
        # Another number, or no such code: the same answer, so codes cannot be probed.
        if offer is None or phone is None or offer.to_phone != phone:
            return Plan("no_offer", _text(settings, "reply_no_offer", code=reply.argument))
        return Plan(reply.kind, None, offer.placement_id, offer.resident_id)
    if reply.kind == "complaint":
        if phone is None or _resident_by_phone(session, phone) is None:
            return Plan("not_registered", _text(settings, "reply_not_registered"))
        return Plan("complaint")
    return Plan("unknown", _text(settings, "reply_unknown"))


def _resident_by_phone(session: Session, phone: str) -> Resident | None:
    return session.scalars(
        select(Resident)
        .where(col(Resident.phone) == phone, col(Resident.erased_at).is_(None))
        .order_by(col(Resident.id))
        .limit(1)
    ).first()


def record(session: Session, body: InboundBody, outcome: str, settings: RegistrySettings) -> None:
    """The message's mark (a concurrent replay of it loses here) and, for ``ADUAN``, the
    complaint, in one transaction; the resident is told its number by message."""
    mark = InboundMessage(message_id=body.message_id, outcome=outcome, received_at=utcnow())
    if insert_once(session, mark, lambda: session.get(InboundMessage, body.message_id)):
        return
    phone = _phone(body.sender)
    resident = _resident_by_phone(session, phone) if phone and outcome == "complaint" else None
    if resident is None:
        return
    grievances.open_grievance(
        session,
        category="other",
        village_code=resident.village_code,
        description=parse_reply(body.text).argument[:2000],
        settings=settings,
        opened_by_type="resident",
        resident=resident,
    )


async def receive(
    db: Database, matching: httpx.AsyncClient, body: InboundBody, settings: RegistrySettings
) -> InboundReply:
    def read() -> Plan:
        with db.session(write=False) as session:
            return plan(session, body, settings)

    found = await anyio.to_thread.run_sync(read)
    if found.outcome == "replay":
        return InboundReply(outcome="replay", reply=None)
    outcome, reply = found.outcome, found.reply
    if found.placement_id and found.resident_id and found.outcome in ("accept", "decline"):
        decision: Decision = "accept" if found.outcome == "accept" else "decline"
        answer = await send_decision(matching, found.placement_id, found.resident_id, decision)
        if answer == "closed":
            outcome = "closed"
            code = parse_reply(body.text).argument
            reply = _text(settings, "reply_closed", code=code)
        elif answer == "unknown":
            outcome = "no_offer"
            reply = _text(settings, "reply_no_offer", code=parse_reply(body.text).argument)
        else:
            outcome = "accepted" if decision == "accept" else "declined"

    def write() -> None:
        with db.session() as session:
            record(session, body, outcome, settings)

    await anyio.to_thread.run_sync(write)
    return InboundReply(outcome=outcome, reply=reply)
