"""A service as a real uvicorn process, as production runs it: the end-to-end stack and the
benchmarks start theirs here. mirakuru waits for the ready URL and stops the whole process
group at the end; the process logs to a file, since a pipe nobody reads would block it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from mirakuru import HTTPExecutor

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
# The uvicorn of the interpreter running the tests, i.e. the project's virtualenv.
UVICORN = Path(sys.executable).parent / "uvicorn"


class NotReady(RuntimeError):
    """The process did not answer its ready URL in time; the message holds its log's tail."""


@dataclass
class UvicornProcess:
    """``uvicorn [--factory] <app>`` on 127.0.0.1:``port``. ``env`` is added to this process's
    environment; ``workers`` is passed on when set."""

    name: str
    app: str
    env: Mapping[str, str]
    log_file: Path
    port: int = field(default_factory=free_port)
    factory: bool = True
    ready_path: str = "/readyz"
    workers: int | None = None
    _executor: HTTPExecutor | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        command = [str(UVICORN)]
        if self.factory:
            command.append("--factory")
        command += [self.app, "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        return [*command, "--no-access-log"]

    def start(self, timeout: float = 60) -> Self:
        with self.log_file.open("ab") as log:
            executor = HTTPExecutor(
                self.command(),
                url=self.url + self.ready_path,
                method="GET",
                status=200,
                timeout=timeout,
                cwd=str(REPO),
                envvars=dict(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                executor.start()
            except Exception as exc:
                executor.stop()
                raise NotReady(f"{self.name} did not become ready:\n{self.log_tail()}") from exc
        self._executor = executor
        return self

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_file.read_text(errors="replace")[-chars:] if self.log_file.exists() else ""

    def running(self) -> bool:
        return self._executor is not None and self._executor.running()

    def stop(self) -> None:
        if self._executor is not None and self._executor.running():
            self._executor.stop()
        self._executor = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
