"""What every benchmark shares: fresh PostgreSQL databases, signing keys, services started as
real uvicorn processes, ``wrk`` as the load generator, and a report that prints a table and
writes ``bench/results/<name>.json``.

Nothing here is imported by a service: the harness drives the services from outside, as a
client or an operator would, so the figures include the HTTP stack, token checks and the
database round trips that production pays.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from shared.kit.migrations import upgrade
from tests.support.ports import free_port
from tests.support.processes import UvicornProcess
from tests.support.tokens import TestKeys

REPO = Path(__file__).resolve().parents[1]
BENCH_DIR = REPO / "bench"
RESULTS_DIR = BENCH_DIR / "results"
WRK_SCRIPT = BENCH_DIR / "wrk" / "report.lua"
# The uvicorn of the interpreter running the harness, i.e. the project's virtualenv.
BIN_DIR = Path(sys.executable).parent
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# Every benchmark derives its data from this seed, so two runs measure the same rows.
SEED = 20260828
Size = TypeVar("Size")


class BenchError(RuntimeError):
    """A benchmark could not measure what it claims to (a service failed, a request erred)."""


# Databases ---------------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


@contextmanager
def fresh_database(label: str, service: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database for one benchmark, migrated to the service's head when a
    service is named, and dropped afterwards whatever happened."""
    name = f"sinergi_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(ADMIN_URL, name)
    try:
        if service is not None:
            upgrade(REPO / "services" / service, url)
        yield url
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def postgres_version() -> str:
    with psycopg.connect(ADMIN_URL, connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


# Tokens ------------------------------------------------------------------------------------


class BenchKeys(TestKeys):
    """The tests' signing key, written out for this run: services trust it through
    ``*_PUBLIC_KEY_FILE``. A benchmark's tokens live an hour and name one stable organisation
    per type, so two runs read the same rows."""

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.private_key_file = workdir / "signing-key.pem"
        self.private_key_file.write_text(self.private_pem)
        self.private_key_file.chmod(0o600)
        self.public_key_file = workdir / "signing-key.pub.pem"
        self.public_key_file.write_text(self.public_pem)

    def token(
        self,
        org_type: str,
        *,
        org_id: str | None = None,
        lifetime: int = 3600,
        **kwargs: Any,
    ) -> str:
        return super().token(
            org_type,
            org_id=org_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"sinergi-bench/{org_type}")),
            lifetime=lifetime,
            sub=f"client:bench-{org_type}",
            **kwargs,
        )

    def authorization(self, org_type: str, **kwargs: Any) -> str:
        return f"Bearer {self.token(org_type, **kwargs)}"


# Processes ---------------------------------------------------------------------------------


class Service(UvicornProcess):
    """One uvicorn process (one worker) on a free port, as the tests start theirs."""

    def __init__(
        self,
        name: str,
        app: str,
        env: Mapping[str, str],
        workdir: Path,
        *,
        factory: bool = True,
        ready_path: str = "/readyz",
    ) -> None:
        super().__init__(
            name,
            app,
            {"PYTHONPATH": str(REPO), "SINERGI_DATA_DIR": str(workdir), **env},
            workdir / f"{name}.log",
            factory=factory,
            ready_path=ready_path,
            workers=1,
        )


def service_env(prefix: str, database_url: str | None, keys: BenchKeys) -> dict[str, str]:
    """A service's own settings: its database, and tokens checked against the run's key
    (no JWKS fetch, so no gateway is needed unless the benchmark routes through one)."""
    env = {
        f"{prefix}_PUBLIC_KEY_FILE": str(keys.public_key_file),
        f"{prefix}_JWKS_URL": "",
        "SINERGI_ENV": "development",
    }
    if database_url is not None:
        env[f"{prefix}_DATABASE_URL"] = database_url
    return env


@contextmanager
def workdir(label: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"sinergi-bench-{label}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# The services each service calls, by the names of its ``<PREFIX>_<NAME>_URL`` settings.
UPSTREAMS = {
    "gateway": ("registry", "opportunities", "matching", "reporting"),
    "reporting": ("gateway", "registry", "opportunities", "matching"),
}


def upstream_env(service: str, urls: Mapping[str, str]) -> dict[str, str]:
    """Where ``service`` finds the services it calls: the URLs given, and for the others a
    port where nothing listens (a benchmark runs only the services it measures)."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    prefix = service.upper()
    return {f"{prefix}_{name.upper()}_URL": urls.get(name, nowhere) for name in UPSTREAMS[service]}


@dataclass(frozen=True)
class Rig:
    """What a benchmark runs its services in: a working directory, the run's signing keys and
    a fresh migrated database per service it names (see :func:`rig`)."""

    work: Path
    keys: BenchKeys
    databases: dict[str, str]

    def env(self, service: str) -> dict[str, str]:
        """The service's :func:`service_env` over its database."""
        return service_env(service.upper(), self.databases[service], self.keys)


@contextmanager
def rig(label: str, *services: str) -> Iterator[Rig]:
    """A :class:`Rig` for the services named, removed afterwards whatever happened."""
    with workdir(label) as work, ExitStack() as stack:
        databases = {
            service: stack.enter_context(fresh_database(f"{label}_{service}", service))
            for service in services
        }
        yield Rig(work, BenchKeys(work), databases)


# Load --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    def figures(self) -> dict[str, float]:
        return {
            "requests": self.requests,
            "requests_per_second": round(self.requests_per_second, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
        }


WRK_JSON = re.compile(r"^WRK_JSON (\{.*\})$", re.MULTILINE)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise BenchError("wrk is not installed: `apt-get install -y wrk` (make bench does it)")
    return path


def run_wrk(
    url: str,
    *,
    seconds: int,
    connections: int = 32,
    threads: int = 2,
    headers: Mapping[str, str] | None = None,
    paths_file: Path | None = None,
) -> WrkResult:
    """Load ``url`` for ``seconds`` from wrk, a compiled load generator; any non-2xx/3xx answer
    or socket error fails the benchmark rather than flattering it. ``paths_file`` lists request
    paths (one a line) that wrk's threads walk through instead of requesting ``url`` alone."""
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(WRK_SCRIPT),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    env = {**os.environ, "WRK_PATHS": str(paths_file) if paths_file else ""}
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=seconds + 60, env=env
    )
    match = WRK_JSON.search(completed.stdout)
    if completed.returncode != 0 or match is None:
        raise BenchError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    data = json.loads(match.group(1))
    errors = {k: v for k, v in data.items() if k.startswith("errors_") and v}
    if errors:
        raise BenchError(f"wrk saw errors against {url}: {errors}")
    seconds_measured = data["duration_us"] / 1e6
    return WrkResult(
        requests=data["requests"],
        seconds=seconds_measured,
        requests_per_second=data["requests"] / seconds_measured,
        p50_ms=data["latency_p50_us"] / 1000,
        p90_ms=data["latency_p90_us"] / 1000,
        p99_ms=data["latency_p99_us"] / 1000,
        max_ms=data["latency_max_us"] / 1000,
    )


# Results -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "postgres": postgres_version(),
    }


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("nan")


@dataclass
class Report:
    """One benchmark's figures: printed as a table and written as JSON."""

    name: str
    title: str
    quick: bool
    sizes: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    ratios: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # Other work on the same cores shows in every figure: the run records how busy they were.
    load_at_start: tuple[float, float, float] = field(default_factory=os.getloadavg)

    def add(self, label: str, **figures: Any) -> None:
        self.rows.append({"case": label, **figures})

    def add_ratio(
        self, name: str, value: float, *, goal: float | None = None, at_most: bool = False
    ) -> None:
        entry: dict[str, Any] = {"value": value}
        if goal is not None:
            entry["goal"] = f"<= {goal}" if at_most else f">= {goal}"
            entry["met"] = value <= goal if at_most else value >= goal
        self.ratios[name] = entry

    @property
    def path(self) -> Path:
        folder = RESULTS_DIR / "quick" if self.quick else RESULTS_DIR
        return folder / f"{self.name}.json"

    def table(self) -> str:
        columns: list[str] = []
        for row in self.rows:
            columns += [key for key in row if key not in columns]
        cells = [[_cell(row.get(c, "")) for c in columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
        lines = [f"== {self.title} ({'quick' if self.quick else 'full'}) =="]
        load = ", ".join(f"{x:.2f}" for x in self.load_at_start)
        lines.append(f"load average at start (1, 5, 15 min): {load}")
        if self.sizes:
            lines.append("sizes: " + ", ".join(f"{k}={_cell(v)}" for k, v in self.sizes.items()))
        lines.append("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        lines.append("  ".join("-" * w for w in widths))
        for values in cells:
            lines.append("  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)))
        for name, entry in self.ratios.items():
            verdict = ""
            if "goal" in entry:
                verdict = f"  (goal {entry['goal']}: {'met' if entry['met'] else 'NOT met'})"
            lines.append(f"ratio {name}: {entry['value']}{verdict}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def write(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "benchmark": self.name,
            "title": self.title,
            "mode": "quick" if self.quick else "full",
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "seed": SEED,
            "machine": machine(),
            "load_average_1_5_15_min": {
                "at_start": [round(x, 2) for x in self.load_at_start],
                "at_end": [round(x, 2) for x in os.getloadavg()],
            },
            "sizes": self.sizes,
            "figures": self.rows,
            "ratios": self.ratios,
            "notes": self.notes,
        }
        self.path.write_text(json.dumps(document, indent=2) + "\n")
        print(self.table(), flush=True)
        print(f"-> {self.path.relative_to(REPO)}\n", flush=True)
        return self.path


def benchmark(
    name: str, title: str, sizes: Mapping[str, Size]
) -> Callable[[Callable[[Report, Size], None]], Callable[..., Report]]:
    """A benchmark's ``run(quick=...)`` around its body: the sizes of the mode asked for, a
    :class:`Report` for the body to fill, printed and written when the body returns."""

    def decorate(body: Callable[[Report, Size], None]) -> Callable[..., Report]:
        @functools.wraps(body)
        def run(*, quick: bool) -> Report:
            report = Report(name, title, quick)
            body(report, sizes["quick" if quick else "full"])
            report.write()
            return report

        return run

    return decorate


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


class Stopwatch:
    """Elapsed seconds on the monotonic clock (benchmarks time, tests never do)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started
