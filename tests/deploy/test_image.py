"""deploy/Dockerfile: its dependency layer installs what pyproject.toml declares, it runs as a
non-root user, and its health check works: the container command of a service, run here as a
real process, answers its probes, and the image's health-check command passes against it (and
fails where nothing answers)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx

from tests.deploy.support import DEPLOY, K8S, REPO, load_compose, option, render
from tests.support.databases import DatabaseFactory
from tests.support.ports import free_port

DOCKERFILE = (DEPLOY / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for line in DOCKERFILE.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    result = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def healthcheck_code() -> str:
    (arguments,) = [a for k, a in instructions() if k == "HEALTHCHECK"]
    command = json.loads(arguments[arguments.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"]
    code: str = command[2]
    return code


def test_slim_python_base_non_root_user_and_a_health_check() -> None:
    steps = instructions()
    keywords = [k for k, _ in steps]
    # The base is a build argument, python:3.11-slim unless a machine without a registry
    # passes its own (deploy/base-image.sh).
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.11-slim")
    assert steps[1] == ("FROM", "${BASE_IMAGE}")
    (user,) = [a for k, a in steps if k == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 1000 and gid.isdigit()
    assert f"--uid {uid}" in DOCKERFILE
    # The user is set after everything is installed and copied, before the service starts.
    assert keywords.index("USER") > max(i for i, k in enumerate(keywords) if k in ("COPY", "RUN"))
    assert "/healthz" in healthcheck_code()
    env = " ".join(a for k, a in steps if k == "ENV")
    assert "SINERGI_ENV=production" in env


def test_dependencies_are_their_own_layer_read_from_pyproject(tmp_path: Path) -> None:
    steps = instructions()
    copies = [a for k, a in steps if k == "COPY"]
    assert copies[0] == "pyproject.toml constraints.txt ./"
    assert copies[1] == "deploy/wheelhouse/ /tmp/wheelhouse/"
    assert copies[2:] == ["shared ./shared", "services ./services"]
    install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "pip install" in a)
    first_copy = next(i for i, (k, _) in enumerate(steps) if k == "COPY")
    code_copy = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and "shared" in a)
    assert first_copy < install < code_copy

    # Run the extraction exactly as written in the Dockerfile on the real pyproject.toml.
    match = re.search(r'python -c "(.+?)" > /tmp/requirements.txt', steps[install][1])
    assert match is not None
    output = subprocess.run(
        [sys.executable, "-c", match.group(1)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert output.splitlines() == declared


def test_the_build_context_sends_what_the_image_copies() -> None:
    allowed = [
        line.removeprefix("!").rstrip("/")
        for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
        if line.startswith("!")
    ]
    copied = [
        source.rstrip("/") for k, a in instructions() if k == "COPY" for source in a.split()[:-1]
    ]
    assert sorted(allowed) == sorted(copied)
    # The code the services import at run time lives in those folders alone.
    imported = set()
    for path in (REPO / "services").rglob("*.py"):
        imported |= set(re.findall(r"^(?:from|import) (\w+)", path.read_text(), re.M))
    assert not imported & {"tests", "bench", "deploy"}


def test_default_command_is_the_gateway_as_compose_runs_it() -> None:
    (cmd,) = [a for k, a in instructions() if k == "CMD"]
    assert json.loads(cmd) == load_compose()["services"]["gateway"]["command"]


def run_healthcheck(cmdline_file: str) -> subprocess.CompletedProcess[str]:
    code = healthcheck_code()
    assert "'/proc/1/cmdline'" in code
    return subprocess.run(
        [sys.executable, "-c", code.replace("'/proc/1/cmdline'", repr(cmdline_file))],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_health_check_fails_where_nothing_answers(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_text("\0".join(["uvicorn", "--port", str(free_port())]) + "\0")
    assert run_healthcheck(str(cmdline)).returncode != 0


def test_the_registry_container_command_serves_its_probes(
    backend: str, databases: DatabaseFactory, tmp_path: Path
) -> None:
    """The registry (the holder of personal data) started exactly as Kubernetes starts it,
    but on a free local port, on a migrated database."""
    objects = render(K8S / "overlays" / "production")
    deployment = next(
        o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "registry"
    )
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    command = list(container["command"])
    port = free_port()
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    command[0] = str(Path(sys.executable).parent / command[0])
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "SINERGI_ENV": "test",
        "SINERGI_DATA_DIR": str(tmp_path),
        "REGISTRY_DATABASE_URL": databases.new(backend, "registry"),
        "REGISTRY_JWKS_URL": "",
    }
    log = (tmp_path / "registry.log").open("w")
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        live = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                live = httpx.get(base + container["livenessProbe"]["httpGet"]["path"], timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert live is not None, (tmp_path / "registry.log").read_text()[-2000:]
        assert live.status_code == 200
        ready = httpx.get(base + container["readinessProbe"]["httpGet"]["path"], timeout=10)
        assert ready.status_code == 200, ready.text
        assert ready.json()["database"]["ok"] is True
        assert option(command, "--port") == str(port)
        check = run_healthcheck(f"/proc/{process.pid}/cmdline")
        assert check.returncode == 0, check.stderr
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
    # SIGTERM (how Kubernetes and compose stop a container) shuts the app down cleanly.
    assert "Application shutdown complete" in (tmp_path / "registry.log").read_text()
