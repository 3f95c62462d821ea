"""A versioned row's change on the feed: its id and version name the change.

Every producer writes ``entity_id=row.id, version=row.version`` for the row it changed; this
reads both from the row, so a change can never carry another row's version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session

from shared.kit.feed import FeedTables, record_change


class Versioned(Protocol):
    @property
    def id(self) -> Any: ...

    @property
    def version(self) -> int: ...


def record_row_change(
    session: Session,
    tables: FeedTables,
    entity: str,
    row: Versioned,
    event: str,
    payload: Mapping[str, Any],
) -> None:
    """Append ``row``'s change to the outbox inside the caller's transaction."""
    record_change(
        session,
        tables,
        entity=entity,
        entity_id=str(row.id),
        event=event,
        version=row.version,
        payload=payload,
    )
