"""The gateway when a service fails, with real processes on real sockets:

- the registry stopped: the gateway answers 503 at once, its readiness names the registry, and
  traffic flows again when the registry is back, without restarting the gateway;
- a service that answers only after 10 s: the gateway gives 504 within its upstream timeout.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import FaultDb
from tests.faults.support import ServiceProcess
from tests.support.ports import free_port

ADMIN = ("sinergi-admin", "dev-admin-secret")  # the gateway's development admin client
UPSTREAM_TIMEOUT = 2.0  # the gateway's, shortened from 10 s so the test stays quick
SLOW_ANSWER_AFTER = 10.0
RECOVERY_ATTEMPTS = 200  # x 0.05 s


def _gateway_env(url: str, data_dir: Path, **services: str) -> dict[str, str]:
    env = {
        "GATEWAY_DATABASE_URL": url,
        "GATEWAY_DATA_DIR": str(data_dir),
        "GATEWAY_UPSTREAM_TIMEOUT_SECONDS": str(UPSTREAM_TIMEOUT),
        "GATEWAY_ORG_STATUS_TTL_SECONDS": "0",
    }
    # Services not named point at a port nothing listens on.
    for name in ("registry", "opportunities", "matching", "reporting"):
        env[f"GATEWAY_{name.upper()}_URL"] = services.get(name, f"http://127.0.0.1:{free_port()}")
    return env


def _admin_token(gateway: ServiceProcess) -> dict[str, str]:
    response = httpx.post(
        f"{gateway.base_url}/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=ADMIN,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _registry(url: str, gateway_port: int, workdir: Path, port: int) -> ServiceProcess:
    return ServiceProcess(
        "registry",
        {
            "REGISTRY_DATABASE_URL": url,
            "REGISTRY_JWKS_URL": f"http://127.0.0.1:{gateway_port}/v1/auth/jwks.json",
        },
        workdir,
        port=port,
    )


def test_stopped_service_gives_503_and_recovers(
    backend: str, fault_db: FaultDb, tmp_path: Path
) -> None:
    registry_port = free_port()
    gateway = ServiceProcess(
        "gateway",
        _gateway_env(
            fault_db(backend, "gateway"),
            tmp_path,
            registry=f"http://127.0.0.1:{registry_port}",
        ),
        tmp_path,
    )
    registry_url = fault_db(backend, "registry")
    with gateway:
        headers = _admin_token(gateway)
        with httpx.Client(base_url=gateway.base_url, headers=headers, timeout=5) as client:
            with _registry(registry_url, gateway.port, tmp_path, registry_port):
                assert client.get("/v1/residents").status_code == 200

            # The fault: the registry is gone. A refused connection is known at once; the
            # client's 5 s timeout would fail the test if the gateway waited for anything.
            down = client.get("/v1/residents")
            assert down.status_code == 503, down.text
            assert down.headers["content-type"].startswith("application/problem+json")
            readiness = client.get("/readyz")
            assert readiness.status_code == 503
            assert readiness.json()["services"]["registry"] == "unreachable"
            assert client.get("/healthz").status_code == 200

            with _registry(registry_url, gateway.port, tmp_path, registry_port):
                back = client.get("/v1/residents")
                assert back.status_code == 200, back.text
                assert client.get("/readyz").json()["services"]["registry"] == "ready"
            assert gateway.process is not None and gateway.process.poll() is None


@contextlib.contextmanager
def _slow_service() -> Iterator[str]:
    """A server that reads each request and answers only after 10 s (or when the test ends)."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            if stop.wait(SLOW_ANSWER_AFTER):
                return
            with contextlib.suppress(OSError):
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    server = threading.Thread(target=serve)
    server.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        server.join(5)
        listener.close()


def test_slow_service_gives_504_within_timeout(
    backend: str, fault_db: FaultDb, tmp_path: Path
) -> None:
    with _slow_service() as slow_url:
        gateway = ServiceProcess(
            "gateway",
            _gateway_env(fault_db(backend, "gateway"), tmp_path, opportunities=slow_url),
            tmp_path,
        )
        with gateway:
            headers = _admin_token(gateway)
            # Within its timeout: the client waits the gateway's timeout plus a margin, well
            # short of the 10 s the service takes.
            timeout = httpx.Timeout(UPSTREAM_TIMEOUT + 3)
            response = httpx.get(
                f"{gateway.base_url}/v1/opportunities", headers=headers, timeout=timeout
            )
            assert response.status_code == 504, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["status"] == 504
            # The gateway itself stays responsive while the slow call is pending.
            assert httpx.get(f"{gateway.base_url}/healthz", timeout=timeout).status_code == 200


@pytest.fixture(autouse=True)
def _no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test talks to loopback addresses only; a proxy setting must not reroute it.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
