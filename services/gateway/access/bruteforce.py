"""The brute-force brake on ``POST /v1/auth/token``: failed authentications are counted per
claimed identity (client id or username) and per remote address with the ``limits`` library,
in the same storage as the rate limit (memory, or Redis shared by every gateway process).

Once an identity or an address has used up its failures for the window, every attempt for it
is refused with 429 until the window ends, a correct secret included: otherwise guessing would
simply go on until it succeeds. Successful authentications are never counted.

Identities are hashed before they become storage keys, so usernames do not sit in Redis.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

NAMESPACE = "login-failures"


def _key(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class LoginBrake:
    def __init__(self, storage: Storage, per_identity: str, per_address: str) -> None:
        self.storage = storage
        self.per_identity = parse(per_identity)
        self.per_address = parse(per_address)
        self.limiter = FixedWindowRateLimiter(storage)

    def _limits(
        self, identity: str | None, address: str | None
    ) -> list[tuple[RateLimitItem, str, str]]:
        checks: list[tuple[RateLimitItem, str, str]] = []
        if identity:
            checks.append((self.per_identity, "identity", _key(identity)))
        if address:
            checks.append((self.per_address, "address", _key(address)))
        return checks

    async def wait_seconds(self, identity: str | None, address: str | None) -> int | None:
        """None when an attempt may go ahead, else the seconds until it may (``Retry-After``)."""
        waits: list[int] = []
        for item, kind, key in self._limits(identity, address):
            if not await self.limiter.test(item, NAMESPACE, kind, key):
                stats = await self.limiter.get_window_stats(item, NAMESPACE, kind, key)
                waits.append(max(1, math.ceil(stats.reset_time - time.time())))
        return max(waits) if waits else None

    async def failed(self, identity: str | None, address: str | None) -> None:
        for item, kind, key in self._limits(identity, address):
            await self.limiter.hit(item, NAMESPACE, kind, key)
