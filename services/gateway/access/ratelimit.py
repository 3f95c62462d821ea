"""Per-organisation rate limit (``GATEWAY_RATE_LIMIT``, e.g. ``1200/minute``) with the
``limits`` library: in memory by default, in Redis when ``GATEWAY_REDIS_URL`` is set so that
every gateway process shares one budget per organisation."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter


def limit_storage(redis_url: str = "", key_prefix: str = "sinergi-gateway") -> Storage:
    """Redis when configured (shared by every gateway process), else this process's memory."""
    if redis_url:
        return RedisStorage(redis_url, implementation="redispy", key_prefix=key_prefix)
    return MemoryStorage()


class OrganisationRateLimit:
    def __init__(
        self,
        rate: str,
        redis_url: str = "",
        key_prefix: str = "sinergi-gateway",
        *,
        storage: Storage | None = None,
    ) -> None:
        self.item = parse(rate)
        self.storage: Storage = storage or limit_storage(redis_url, key_prefix)
        self.limiter = FixedWindowRateLimiter(self.storage)

    async def hit(self, organisation_id: str) -> int | None:
        """None when the request may pass, else the seconds to wait (for ``Retry-After``)."""
        if await self.limiter.hit(self.item, "org", organisation_id):
            return None
        stats = await self.limiter.get_window_stats(self.item, "org", organisation_id)
        return max(1, math.ceil(stats.reset_time - time.time()))
