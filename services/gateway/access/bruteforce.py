"""The brute-force brake on ``POST /v1/auth/token``, with the ``limits`` library in the rate
limit's storage (memory, or Redis shared by every gateway process).

Failures of one party never refuse another party's correct credentials (issue 13, item 4):

- per (address, identity): once an address has used up its failures for one client id or
  username, that address is refused for that identity, a correct secret included (otherwise
  guessing would go on until it succeeds);
- per identity, all addresses together: once the identity has used up its failures, only the
  addresses that failed for it in the window are refused; an address that has not failed still
  gets through with the right secret, so many addresses cannot lock the owner out;
- per address, for unknown identities only: names that exist nowhere are refused from an
  address that has guessed too many of them; a known identity is never refused by this.

Addresses are the caller's as the trusted proxies report it (``GATEWAY_TRUSTED_PROXIES``); an
IPv6 address counts as its /64, which one subscriber usually holds whole. Identities and
addresses are hashed before they become storage keys, so usernames do not sit in Redis.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

NAMESPACE = "login-failures"


def _key(*values: str) -> str:
    return hashlib.sha256("\x00".join(values).encode()).hexdigest()


def address_key(address: str | None) -> str | None:
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginBrake:
    def __init__(
        self,
        storage: Storage,
        per_identity: str,
        per_address: str,
        per_address_identity: str = "10/15 minutes",
    ) -> None:
        self.storage = storage
        self.per_identity = parse(per_identity)
        self.per_address = parse(per_address)
        self.per_address_identity = parse(per_address_identity)
        self.limiter = FixedWindowRateLimiter(storage)

    async def _wait(self, item: RateLimitItem, kind: str, key: str) -> int | None:
        if await self.limiter.test(item, NAMESPACE, kind, key):
            return None
        stats = await self.limiter.get_window_stats(item, NAMESPACE, kind, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def wait_seconds(self, identity: str | None, address: str | None) -> int | None:
        """None when an attempt for ``identity`` from ``address`` may go ahead, else the
        seconds until it may (``Retry-After``). Unknown identities are checked apart
        (:meth:`unknown_wait`), since telling them apart costs a lookup."""
        if not identity:
            return None
        address = address_key(address)
        waits: list[int] = []
        pair = _key(address, identity) if address else None
        if pair is not None:
            wait = await self._wait(self.per_address_identity, "address-identity", pair)
            if wait is not None:
                waits.append(wait)
        identity_wait = await self._wait(self.per_identity, "identity", _key(identity))
        if identity_wait is not None:
            # Only the addresses that took part in the failures are refused.
            failed_here = (
                pair is None
                or (
                    await self.limiter.get_window_stats(
                        self.per_address_identity, NAMESPACE, "address-identity", pair
                    )
                ).remaining
                < self.per_address_identity.amount
            )
            if failed_here:
                waits.append(identity_wait)
        return max(waits) if waits else None

    async def unknown_wait(self, address: str | None) -> int | None:
        """The wait of ``address`` for identities that do not exist, None when it may try."""
        address = address_key(address)
        return await self._wait(self.per_address, "address", _key(address)) if address else None

    async def failed(self, identity: str | None, address: str | None, *, known: bool) -> None:
        address = address_key(address)
        if identity:
            await self.limiter.hit(self.per_identity, NAMESPACE, "identity", _key(identity))
            if address:
                await self.limiter.hit(
                    self.per_address_identity,
                    NAMESPACE,
                    "address-identity",
                    _key(address, identity),
                )
        if address and not known:
            await self.limiter.hit(self.per_address, NAMESPACE, "address", _key(address))
