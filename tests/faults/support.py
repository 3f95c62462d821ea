"""Real processes for fault tests: a service under uvicorn, and a throwaway PostgreSQL cluster
that a test may stop and start without touching the machine's own server.

Every process started here is ended by the context manager that started it, by its own pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import psycopg

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
STARTUP_ATTEMPTS = 300  # x 0.05 s: a service or cluster that is not up by then has failed


class ServiceProcess:
    """``uvicorn --factory services.<name>.main:create_app`` on a free port, as in production."""

    def __init__(
        self, service: str, env: Mapping[str, str], workdir: Path, port: int | None = None
    ) -> None:
        self.service = service
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{service}-{self.port}.log"
        self._env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(service.upper() + "_")},
            "PYTHONPATH": str(REPO),
            "SINERGI_ENV": "test",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServiceProcess:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            f"services.{self.service}.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self._env, stdout=log, stderr=subprocess.STDOUT
            )
        for _ in range(STARTUP_ATTEMPTS):
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited at start:\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.service} did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; the machine's postgres account runs our cluster.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class ThrowawayPostgres:
    """A PostgreSQL cluster of our own in a temporary folder, on a free port: stopping it
    disturbs nobody else's databases."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="sinergi-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run(
            _as_postgres_user([str(PG_BIN / args[0]), *args[1:]]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> ThrowawayPostgres:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        # "immediate" is a crash as far as clients can tell: connections drop without goodbye.
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            if (self.data / "postmaster.pid").exists():
                self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres().init()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
