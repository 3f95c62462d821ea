"""What the benchmarks ask of the services as a client would: tokens from the gateway, import
files, pages of residents."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.data import residents
from bench.harness import BenchError, BenchKeys, Service, upstream_env


def resident_csv(count: int, seed: int) -> bytes:
    """Residents as the import file takes them: one column per field, lists joined by ';'."""
    buffer = io.StringIO()
    writer: Any = None
    for row in residents(count, seed):
        flat = {
            k: ";".join(v) if isinstance(v, list) else ("" if v is None else v)
            for k, v in row.items()
        }
        if writer is None:
            writer = csv.DictWriter(buffer, fieldnames=list(flat))
            writer.writeheader()
        writer.writerow(flat)
    return buffer.getvalue().encode()


def import_residents(
    client: httpx.Client, content: bytes, *, timeout: float = 1800, poll_seconds: float = 0.05
) -> dict[str, Any]:
    """Upload a CSV to ``POST /v1/residents/import`` and wait for its job to finish, asking
    every ``poll_seconds``."""
    response = client.post(
        "/v1/residents/import", files={"file": ("residents.csv", content, "text/csv")}
    )
    if response.status_code != 202:
        raise BenchError(f"import refused: {response.status_code} {response.text[:500]}")
    job: dict[str, Any] = response.json()
    deadline = time.monotonic() + timeout
    while job["status"] not in ("done", "failed"):
        if time.monotonic() > deadline:
            raise BenchError(f"import job {job['id']} still {job['status']} after {timeout} s")
        time.sleep(poll_seconds)
        polled = client.get(f"/v1/residents/imports/{job['id']}")
        polled.raise_for_status()
        job = polled.json()
    if job["status"] != "done" or job["rejected"]:
        raise BenchError(
            f"import job ended {job['status']} with {job['rejected']} rejected rows: "
            f"{job.get('error')} {job.get('rejections', [])[:3]}"
        )
    return job


def resident_ids(client: httpx.Client, limit: int) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while len(ids) < limit:
        params: dict[str, Any] = {"limit": min(100, limit - len(ids))}
        if cursor:
            params["cursor"] = cursor
        response = client.get("/v1/residents", params=params)
        response.raise_for_status()
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return ids


def gateway_token(gateway_url: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        gateway_url + "/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=30,
    )
    if response.status_code != 200:
        raise BenchError(f"gateway token refused: {response.status_code} {response.text[:300]}")
    token: str = response.json()["access_token"]
    return token


def gateway_env(
    database_url: str, keys: BenchKeys, upstreams: dict[str, str], admin: tuple[str, str]
) -> dict[str, str]:
    """The gateway signs with the run's key (so every service trusts its tokens through the
    public key file), routes to the given upstreams, and has its per-organisation rate limit
    lifted: a benchmark is one organisation sending far more than 1,200 requests a minute."""
    return upstream_env("gateway", upstreams) | {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_SIGNING_KEY_FILE": str(keys.private_key_file),
        "GATEWAY_RATE_LIMIT": "100000000/minute",
        "SINERGI_ADMIN_CLIENT_ID": admin[0],
        "SINERGI_ADMIN_CLIENT_SECRET": admin[1],
        "SINERGI_ENV": "development",
    }


@contextmanager
def registry_behind_gateway(
    work: Path,
    keys: BenchKeys,
    registry_env: dict[str, str],
    gateway_db: str,
    admin: tuple[str, str],
) -> Iterator[tuple[Service, Service]]:
    """The registry, and the gateway in front of it (the other upstreams lead nowhere)."""
    with Service("registry", "services.registry.main:create_app", registry_env, work) as reg:
        env = gateway_env(gateway_db, keys, {"registry": reg.url}, admin)
        with Service(
            "gateway", "services.gateway.main:create_app", env, work, ready_path="/healthz"
        ) as gateway:
            yield reg, gateway
