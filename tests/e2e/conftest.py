"""The end-to-end suite: the five services as real processes, once per backend.

``backend`` is overridden here with session scope, so pytest starts one stack on SQLite and
one on PostgreSQL (fresh databases from ``databases``, dropped at the end of the session) and
runs every e2e test against each in turn. The stack is seeded through the gateway with a
smaller population than ``make run`` (the seed's code path is the same), which keeps the
suite within a minute or so per backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.pilot.api import Gateway
from deploy.pilot.seed import PilotCredentials, seed
from tests.e2e.stack import Stack
from tests.support.databases import DatabaseFactory

E2E_RESIDENTS = 1000


@dataclass
class Pilot:
    stack: Stack
    gateway: Gateway
    credentials: PilotCredentials
    credentials_path: Path
    backend: str
    seed_log: list[str]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def pilot(
    backend: str, databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pilot]:
    workdir = tmp_path_factory.mktemp(f"e2e-{backend}")
    stack = Stack(workdir, lambda service: databases.new(backend, service))
    stack.start()
    try:
        with Gateway(stack.gateway_url) as gateway:
            path = workdir / "demo-credentials.json"
            log: list[str] = []
            credentials = seed(gateway, residents=E2E_RESIDENTS, path=path, log=log.append)
            yield Pilot(stack, gateway, credentials, path, backend, log)
    except BaseException:
        for service in ("gateway", "registry", "opportunities", "matching", "reporting"):
            print(f"--- {service} log (tail) ---\n{stack.log_tail(service)}")
        raise
    finally:
        stack.stop()
