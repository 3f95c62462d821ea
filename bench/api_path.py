"""Benchmark 1, the API path: ``GET /v1/residents/{id}`` through the gateway, straight to the
registry, the registry's benchmark-only unauthenticated twin of the same route, the same read
from a plain ``def`` route on a thread-pool driver (``/bench/sync/residents/{id}``), the
route as it was before its read became one round trip (``/bench/previous/residents/{id}``),
and a bare uvicorn app answering constant JSON. Same wrk load for each; the ratios say what
each layer costs (gateway hop, token check, framework and database). Each case also reports
the PostgreSQL sessions opened on the registry's database while it ran (connection churn)."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import psycopg

from bench.clients import (
    gateway_token,
    import_residents,
    registry_behind_gateway,
    resident_csv,
    resident_ids,
)
from bench.harness import (
    ADMIN_URL,
    SEED,
    BenchError,
    Report,
    Service,
    benchmark,
    ratio,
    rig,
    run_wrk,
)

SIZES = {
    "quick": {"residents": 500, "seconds": 3, "warmup_seconds": 1},
    "full": {"residents": 5_000, "seconds": 15, "warmup_seconds": 3},
}
CONNECTIONS = 32
THREADS = 2
# Residents whose ids wrk walks through: enough that no single row stays hot.
READ_SET = 1_000


@benchmark("api_path", "API path: GET /v1/residents/{id}", SIZES)
def run(report: Report, size: dict[str, int]) -> None:
    report.sizes |= {
        "residents": size["residents"],
        "ids_walked": min(READ_SET, size["residents"]),
        "connections": CONNECTIONS,
        "threads": THREADS,
        "seconds": size["seconds"],
    }
    admin = ("bench-admin", secrets.token_urlsafe(24))
    with rig("api", "registry", "gateway") as bench:
        work = bench.work
        registry_env = bench.env("registry") | {"REGISTRY_BENCH_UNAUTHENTICATED_READS": "true"}
        with registry_behind_gateway(
            work, bench.keys, registry_env, bench.databases["gateway"], admin
        ) as (reg, gateway):
            token = gateway_token(gateway.url, *admin)
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=reg.url, headers=auth, timeout=60) as client:
                import_residents(client, resident_csv(size["residents"], SEED))
                ids = resident_ids(client, READ_SET)
            paths = work / "paths"
            paths.mkdir()
            cases: list[tuple[str, str, Path, dict[str, str]]] = [
                ("gateway -> registry", gateway.url, _paths(paths, "v1", ids), auth),
                ("registry direct", reg.url, _paths(paths, "v1", ids), auth),
                ("registry unauthenticated", reg.url, _paths(paths, "bench", ids), {}),
                ("registry direct, sync route", reg.url, _paths(paths, "sync", ids), auth),
                ("registry direct, previous path", reg.url, _paths(paths, "previous", ids), auth),
            ]
            results = {}
            sessions: dict[str, int] = {}
            database = bench.databases["registry"].rpartition("/")[2]
            for label, base, path_file, headers in cases:
                first = path_file.read_text().splitlines()[0]
                check = httpx.get(base + first, headers=headers, timeout=10)
                if check.status_code != 200:
                    raise BenchError(f"{label}: {check.status_code} {check.text[:300]}")
                run_wrk(
                    base + first,
                    seconds=size["warmup_seconds"],
                    headers=headers,
                    paths_file=path_file,
                )
                opened = _sessions_opened(database)
                results[label] = run_wrk(
                    base + first,
                    seconds=size["seconds"],
                    connections=CONNECTIONS,
                    threads=THREADS,
                    headers=headers,
                    paths_file=path_file,
                )
                sessions[label] = _sessions_opened(database) - opened
        with Service("bare", "bench.bare_app:app", {}, work, factory=False, ready_path="/") as bare:
            bare_paths = _paths(work / "paths", "bare", ids)
            run_wrk(bare.url + "/", seconds=size["warmup_seconds"], paths_file=bare_paths)
            results["bare uvicorn (constant JSON)"] = run_wrk(
                bare.url + "/",
                seconds=size["seconds"],
                connections=CONNECTIONS,
                threads=THREADS,
                paths_file=bare_paths,
            )
    for label, result in results.items():
        report.add(label, **result.figures(), registry_db_sessions_opened=sessions.get(label, "-"))
    rps = {label: r.requests_per_second for label, r in results.items()}
    report.add_ratio(
        "gateway/direct", ratio(rps["gateway -> registry"], rps["registry direct"]), goal=0.9
    )
    report.add_ratio(
        "authenticated/unauthenticated",
        ratio(rps["registry direct"], rps["registry unauthenticated"]),
        goal=0.9,
    )
    report.add_ratio(
        "direct/bare",
        ratio(rps["registry direct"], rps["bare uvicorn (constant JSON)"]),
        goal=0.03,
    )
    report.add_ratio(
        "direct/sync route", ratio(rps["registry direct"], rps["registry direct, sync route"])
    )
    report.add_ratio(
        "direct/previous path",
        ratio(rps["registry direct"], rps["registry direct, previous path"]),
        goal=3,
    )
    report.notes.append(
        "ratios are of requests per second; every registry read writes its audit record"
    )
    report.notes.append(
        "registry_db_sessions_opened: pg_stat_database.sessions of the registry's database "
        "after the case less before it (the gateway's own database not counted)"
    )


def _sessions_opened(database: str) -> int:
    """Sessions PostgreSQL has opened on ``database`` so far (pg_stat_database, PostgreSQL 14+).
    A new session reports itself at the end of its first transaction."""
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        row = admin.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = %s", (database,)
        ).fetchone()
    return int(row[0]) if row else 0


PREFIXES = {
    "v1": "/v1/residents/",
    "bench": "/bench/residents/",
    "previous": "/bench/previous/residents/",
    "bare": "/residents/",
    "sync": "/bench/sync/residents/",
}


def _paths(folder: Path, kind: str, ids: list[str]) -> Path:
    prefix = PREFIXES[kind]
    path = folder / f"{kind}.txt"
    path.write_text("".join(f"{prefix}{resident_id}\n" for resident_id in ids))
    return path
