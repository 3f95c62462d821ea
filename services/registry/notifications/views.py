"""``/v1/notifications``: a resident's messages (programme organisations and the resident's
village), and the SMS gateway's signed callbacks: inbound messages and delivery receipts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import BaseModel, ValidationError

from services.registry.deps import ReadCall, SettingsDep
from services.registry.notifications import inbound, service
from services.registry.notifications.models import (
    InboundBody,
    InboundReply,
    NotificationPublic,
    ReceiptBody,
)
from services.registry.notifications.rules import SIGNATURE_HEADER, signature_valid
from shared.kit.database import DatabaseDep
from shared.kit.pagination import Page, PageParamsDep
from shared.kit.problems import NotFound, Unauthorized, UnprocessableEntity, problem_responses
from shared.kit.routes import page_of

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])
# Reached through the gateway without a bearer token: the SMS gateway signs instead.
signed_router = APIRouter(prefix="/v1/notifications", tags=["notifications"])

SignatureHeader = Annotated[
    str | None,
    Header(alias=SIGNATURE_HEADER, description="sha256=<hex HMAC-SHA256 of the body>"),
]


@router.get("", responses=problem_responses(403, 404))
def list_notifications(
    call: ReadCall,
    page: PageParamsDep,
    resident_id: Annotated[str, Query(min_length=1, max_length=36)],
) -> Page[NotificationPublic]:
    return page_of(service.list_for_resident(call.session, call.principal, resident_id, page))


SignedT = TypeVar("SignedT", bound=BaseModel)


def _signed(kind: type[SignedT]) -> Callable[..., Awaitable[SignedT]]:
    """The dependency that hands a callback its body as ``kind``, once its signature holds
    (401 before anything is parsed)."""

    async def body_of(
        request: Request, settings: SettingsDep, signature: SignatureHeader = None
    ) -> SignedT:
        body = await request.body()
        if not signature_valid(settings.notify_inbound_secret, body, signature):
            raise Unauthorized("missing or bad X-Sinergi-Signature")
        try:
            return kind.model_validate_json(body)
        except ValidationError as exc:
            # The first wrong field, named as a validation error names it (the value left out).
            error = exc.errors()[0]
            loc: list[str | int] = ["body", *error.get("loc", ())]
            raise UnprocessableEntity(loc, str(error.get("msg"))) from None

    return body_of


Inbound = Annotated[InboundBody, Depends(_signed(InboundBody))]
Receipt = Annotated[ReceiptBody, Depends(_signed(ReceiptBody))]


@signed_router.post(
    "/inbound",
    responses=problem_responses(401, 422, 503),
    summary="A resident's message, from the SMS gateway (HMAC-signed, no bearer token)",
)
async def receive_inbound(
    request: Request, db: DatabaseDep, settings: SettingsDep, body: Inbound
) -> InboundReply:
    return await inbound.receive(db, request.app.state.matching_as_registry, body, settings)


@signed_router.post(
    "/receipts",
    status_code=204,
    responses=problem_responses(401, 404, 422),
    summary="A delivery receipt, from the SMS gateway (HMAC-signed, no bearer token)",
)
async def receive_receipt(db: DatabaseDep, receipt: Receipt) -> None:
    if not await anyio.to_thread.run_sync(service.take_receipt, db, receipt):
        raise NotFound("no such message")
