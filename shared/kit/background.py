"""The one poll loop behind every background task (import jobs, expiry sweeps, the matching
worker, disclosure delivery, feed consumers).

A loop must outlive every failure but cancellation: a database blip or a producer that is
down is retried at the next pass. It logs a failure by its type only, since exception
messages of database drivers quote the offending values, and those may be NIKs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Protocol

Step = Callable[[], Awaitable[object]]


async def poll_loop(
    name: str,
    step: Step,
    interval_seconds: float,
    *,
    logger: logging.Logger,
    wake: asyncio.Event | None = None,
    on_error: Callable[[Exception], None] | None = None,
    on_success: Callable[[], None] | None = None,
) -> None:
    """Run ``step`` until cancelled.

    A truthy result means more work is waiting, so the next pass starts at once; otherwise
    the loop sleeps ``interval_seconds`` or until ``wake`` is set. ``on_error`` sees each
    failure (a feed consumer keeps it for its status page); ``on_success`` each clean pass.
    """
    while True:
        more = False
        try:
            more = bool(await step())
            if on_success is not None:
                on_success()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop must outlive a failing pass
            logger.error("%s failed: %s", name, type(exc).__name__)
            if on_error is not None:
                on_error(exc)
        if more:
            continue
        if wake is None:
            await asyncio.sleep(interval_seconds)
        else:
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), interval_seconds)


class Closable(Protocol):
    async def aclose(self) -> None: ...


async def close_on_shutdown(clients: Iterable[Closable]) -> None:
    """A background task that only waits: when the app shuts down (the task is cancelled) it
    closes the HTTP clients the other tasks share, each even if another fails to close."""
    try:
        await asyncio.Event().wait()
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()
