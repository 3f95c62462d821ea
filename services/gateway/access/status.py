"""Whether an organisation is active, cached for at most ``GATEWAY_ORG_STATUS_TTL_SECONDS``
(30 s at most), so a deactivated organisation's tokens stop working within that time on every
gateway process, and at once on the process that deactivated it."""

from __future__ import annotations

import time

import anyio

from services.gateway.organisations.service import organisation_is_active
from shared.kit.database import Database


class OrganisationStatus:
    def __init__(self, db: Database, ttl_seconds: float, max_entries: int = 50_000) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._cache: dict[str, tuple[bool, float]] = {}

    def _lookup(self, organisation_id: str) -> bool:
        with self.db.session(write=False) as session:
            return organisation_is_active(session, organisation_id)

    async def is_active(self, organisation_id: str) -> bool:
        now = time.monotonic()
        cached = self._cache.get(organisation_id)
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        active = await anyio.to_thread.run_sync(self._lookup, organisation_id)
        if len(self._cache) >= self.max_entries:
            self._cache.clear()
        self._cache[organisation_id] = (active, now)
        return active

    def mark_inactive(self, organisation_id: str) -> None:
        self._cache[organisation_id] = (False, time.monotonic())

    def forget(self, organisation_id: str) -> None:
        self._cache.pop(organisation_id, None)
