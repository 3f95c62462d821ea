"""Idempotency-Key (draft-ietf-httpapi-idempotency-key-header, as Stripe does it).

The key is claimed by inserting its row in the same transaction as the write it protects:
the same key with the same body replays the stored response and creates nothing; the same key
with another body is a 422; parallel duplicates race on the primary key, one wins, and the
losers replay the winner's response once it has committed. A write that fails rolls back its
claim with it, so a failed request may be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from services.opportunities.idempotency.models import IdempotencyRecord
from shared.kit.database import insert_once, rows_changed
from shared.kit.problems import UnprocessableEntity

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    replayed: bool


def request_hash(body: dict[str, Any]) -> str:
    """A digest of the request as validated, so key order and spacing do not count."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise UnprocessableEntity(
            ["header", HEADER], f"must be 1 to {MAX_KEY_LENGTH} printable characters"
        )
    return key


def _find(session: Session, org_id: str, key: str) -> IdempotencyRecord | None:
    return session.scalars(
        select(IdempotencyRecord).where(
            col(IdempotencyRecord.org_id) == org_id,
            col(IdempotencyRecord.key) == key,
        )
    ).first()


def _replay(record: IdempotencyRecord, endpoint: str, digest: str) -> StoredResponse:
    if record.endpoint != endpoint or record.request_hash != digest:
        raise UnprocessableEntity(
            ["header", HEADER],
            "this key was already used with a different request body; use a new key",
        )
    return StoredResponse(record.status_code, dict(record.response), replayed=True)


def run_once(
    session: Session,
    *,
    org_id: str,
    key: str,
    endpoint: str,
    body: dict[str, Any],
    perform: Callable[[], tuple[int, dict[str, Any]]],
) -> StoredResponse:
    """Run ``perform`` once per (org, key) and store its response; replay it afterwards."""
    digest = request_hash(body)
    existing = _find(session, org_id, key)
    if existing is not None:
        return _replay(existing, endpoint, digest)
    claim = IdempotencyRecord(
        org_id=org_id,
        key=key,
        endpoint=endpoint,
        request_hash=digest,
        status_code=0,
        response={},
        created_at=datetime.now(UTC),
    )
    # Another request holding the same key may have committed first.
    winner = insert_once(session, claim, lambda: _find(session, org_id, key))
    if winner is not None:
        return _replay(winner, endpoint, digest)
    status_code, response = perform()
    claim.status_code = status_code
    claim.response = response
    session.add(claim)
    session.flush()
    return StoredResponse(status_code, response, replayed=False)


def purge_expired(session: Session, retention: timedelta) -> int:
    cutoff = datetime.now(UTC) - retention
    result = session.execute(
        delete(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < cutoff)
    )
    return rows_changed(result)
