"""Benchmark 5, feeds: how long after a registry write the reports show it, while residents are
registered at a steady rate. Registry, reporting and the gateway (which issues reporting's
service token by client credentials) run as processes; reporting pulls the registry's change
feed as in production.

One writer registers residents one after another at a fixed pace; each write's commit time is
when its 201 arrives. An observer polls the regency summary; the first time it counts ``k``
residents, writes 1..k are visible (the feed is served in commit order and a single writer
commits in order), so write k's lag is that moment minus its commit. The pace is a trickle,
not load: this measures delay, and the writer is a client loop by design.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import time
from typing import Any

import httpx
import psycopg

from bench.clients import registry_behind_gateway
from bench.data import residents
from bench.harness import (
    SEED,
    BenchError,
    BenchKeys,
    Report,
    Service,
    benchmark,
    fresh_database,
    ratio,
    rig,
    upstream_env,
)
from shared.kit.settings import ConsumerSettings

SIZES = {
    "quick": {"writes_per_second": 10, "seconds": 8, "hold_seconds": 2},
    "full": {"writes_per_second": 20, "seconds": 60, "hold_seconds": 10},
}
OBSERVE_EVERY_SECONDS = 0.02
# How long the last write may take to show before the run is declared broken.
SETTLE_SECONDS = 30.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def write_steadily(
    client: httpx.AsyncClient, rows: list[dict[str, Any]], rate: float
) -> tuple[list[float], list[float]]:
    """Register each row at its scheduled time; returns commit times and write latencies."""
    committed: list[float] = []
    latencies: list[float] = []
    start = time.monotonic()
    for index, row in enumerate(rows):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        sent = time.monotonic()
        response = await client.post("/v1/residents", json=row)
        done = time.monotonic()
        if response.status_code != 201:
            raise BenchError(f"write {index} refused: {response.status_code} {response.text[:300]}")
        committed.append(done)
        latencies.append(done - sent)
    return committed, latencies


async def observe(client: httpx.AsyncClient, offset: int, total: int, seen: list[float]) -> None:
    """Record, for each count ``offset + k``, the first moment the summary counted it."""
    while len(seen) < total:
        response = await client.get("/v1/reports/summary")
        now = time.monotonic()
        if response.status_code != 200:
            raise BenchError(f"summary: {response.status_code} {response.text[:300]}")
        count = int(response.json()["residents"]["registered"] or 0) - offset
        while len(seen) < min(count, total):
            seen.append(now)
        await asyncio.sleep(OBSERVE_EVERY_SECONDS)


def hold_transaction(url: str, seconds: float) -> None:
    """An unrelated transaction with a transaction id, open for ``seconds``, in another
    database of the same server: a long report export or a bulk load would do the same."""
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_current_xact_id()")
        time.sleep(seconds)
        conn.rollback()


async def phase(
    writer: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    rows: list[dict[str, Any]],
    rate: float,
    offset: int,
    blocker: tuple[str, float] | None = None,
) -> tuple[list[float], list[float]]:
    """Write ``rows`` at ``rate`` while observing; lags and write latencies, in seconds."""
    seen: list[float] = []
    observer = asyncio.create_task(observe(reader, offset, len(rows), seen))
    held = None
    if blocker is not None:
        # Opened a second into the stream, so the writes before it show the normal lag.
        await asyncio.sleep(1.0)
        held = asyncio.create_task(asyncio.to_thread(hold_transaction, *blocker))
    try:
        committed, latencies = await write_steadily(writer, rows, rate)
        await asyncio.wait_for(asyncio.shield(observer), timeout=SETTLE_SECONDS + 60)
    finally:
        observer.cancel()
        if held is not None:
            await held
    lags = [max(0.0, shown - done) for shown, done in zip(seen, committed, strict=True)]
    return lags, latencies


async def measure(
    registry_url: str,
    reporting_url: str,
    keys: BenchKeys,
    size: dict[str, int],
    other_database: str,
) -> dict[str, tuple[list[float], list[float]]]:
    rate = size["writes_per_second"]
    steady = int(rate * size["seconds"])
    blocked = int(rate * (size["hold_seconds"] + 2))
    rows = list(residents(steady + blocked, SEED + 5))
    writer_auth = {"Authorization": keys.authorization("government_agency")}
    reader_auth = {"Authorization": keys.authorization("admin")}
    async with (
        httpx.AsyncClient(base_url=registry_url, headers=writer_auth, timeout=30) as writer,
        httpx.AsyncClient(base_url=reporting_url, headers=reader_auth, timeout=30) as reader,
    ):
        first = await phase(writer, reader, rows[:steady], rate, 0)
        second = await phase(
            writer,
            reader,
            rows[steady:],
            rate,
            steady,
            blocker=(other_database, float(size["hold_seconds"])),
        )
    return {"steady": first, "blocked": second}


def _row(lags: list[float]) -> dict[str, Any]:
    return {
        "samples": len(lags),
        "p50_ms": round(percentile(lags, 0.5) * 1000, 1),
        "p99_ms": round(percentile(lags, 0.99) * 1000, 1),
        "max_ms": round(max(lags) * 1000, 1),
        "mean_ms": round(statistics.fmean(lags) * 1000, 1),
    }


@benchmark("feeds", "Feeds: registry write to visible in the regency summary", SIZES)
def run(report: Report, size: dict[str, int]) -> None:
    # Reporting runs with its production default poll interval.
    poll = float(ConsumerSettings.model_fields["feed_poll_seconds"].default)
    admin = ("bench-admin", secrets.token_urlsafe(24))
    report.sizes |= {
        "writes_per_second": size["writes_per_second"],
        "steady_seconds": size["seconds"],
        "hold_seconds": size["hold_seconds"],
        "observer_poll_ms": OBSERVE_EVERY_SECONDS * 1000,
        "reporting_feed_poll_ms": poll * 1000,
    }
    with (
        rig("feeds", "registry", "reporting", "gateway") as bench,
        fresh_database("feeds_other") as other_db,
    ):
        work, keys = bench.work, bench.keys
        with registry_behind_gateway(
            work, keys, bench.env("registry"), bench.databases["gateway"], admin
        ) as (reg, gateway):
            # Catalogue and matching feeds are not part of this path: they lead nowhere.
            env = bench.env("reporting") | upstream_env(
                "reporting", {"gateway": gateway.url, "registry": reg.url}
            )
            with Service("reporting", "services.reporting.main:create_app", env, work) as reporting:
                phases = asyncio.run(measure(reg.url, reporting.url, keys, size, other_db))
    lags, latencies = phases["steady"]
    blocked_lags, _ = phases["blocked"]
    report.sizes["writes"] = len(lags) + len(blocked_lags)
    report.add("write -> visible in /v1/reports/summary", **_row(lags))
    report.add(
        f"same, another database holding a transaction open {size['hold_seconds']} s",
        **_row(blocked_lags),
    )
    report.add("baseline: the write itself (POST /v1/residents)", **_row(latencies))
    lag_p50 = percentile(lags, 0.5)
    report.add_ratio("lag p50 / feed poll interval", ratio(lag_p50, poll))
    report.add_ratio("lag p50 / write p50", ratio(lag_p50, percentile(latencies, 0.5)))
    report.notes.append(
        "reporting polls each feed every REPORTING_FEED_POLL_SECONDS (default 0.5 s), so about "
        "half of it is the expected lag floor"
    )
    report.notes.append(
        "second row: another database of the same server holds a transaction (with an id) "
        "open; the feed must wait only for transactions of its own database (shared/kit/feed.py)"
    )
