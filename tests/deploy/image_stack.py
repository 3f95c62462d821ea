"""``make image-test``: the image built and the stack brought up for real, as deploy/compose.yaml
describes it, on a machine that cannot pull public images.

1. dockerd is started when none answers (``--iptables=false --bridge=none --storage-driver=vfs``)
   and stopped at the end if this run started it.
2. ``deploy/base-image.sh`` builds the Debian base when it is missing; ``deploy/wheelhouse/``
   is filled by ``pip download`` run with the base image's own Python, with the host's CA
   bundle; the Sinergi image is built from it, PostgreSQL and Redis from Debian's packages
   (``deploy/debian/``).
3. Every service of compose.yaml is run with its command, environment, volumes, read-only root
   and tmpfs, in ``depends_on`` order (healthy / completed successfully). Containers share the
   host's network (no bridge here), so each compose host name is mapped to 127.0.0.1 and each
   port to a free one; the mapping is applied to commands and URLs alike.
4. A smoke test through the gateway alone: the pilot seed (tokens, organisations, a resident
   register imported as a file, residents created and verified) then a report that counts them.
5. Every container runs as a non-root user; those compose marks ``read_only`` cannot write to
   their root filesystem. Then everything is removed. Duration and image size are printed.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
BASE_IMAGE = os.environ.get("SINERGI_BASE_IMAGE", "sinergi-base:bookworm")
TAG = "image-test"
APP_IMAGE = f"sinergi:{TAG}"
# compose.yaml's public images -> the same software from Debian's packages.
LOCAL_IMAGES = {
    "postgres:17": ("sinergi-postgres:15", "postgres.Dockerfile"),
    "redis:7-alpine": ("sinergi-redis:7", "redis.Dockerfile"),
}
PREFIX = "sinergi-image-test-"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def say(message: str) -> None:
    print(f"image-test: {message}", flush=True)


def run(*command: str, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, check=check, text=True, **kwargs)


def docker(*args: str, check: bool = True, quiet: bool = False) -> str:
    completed = run("docker", *args, check=False, capture_output=True)
    if check and completed.returncode != 0:
        raise SystemExit(f"docker {' '.join(args[:3])}: {completed.stderr.strip()[-2000:]}")
    if not quiet and completed.stderr.strip() and completed.returncode != 0:
        say(completed.stderr.strip())
    return completed.stdout.strip()


def docker_answers() -> bool:
    return run("docker", "info", check=False, capture_output=True).returncode == 0


def start_dockerd(workdir: Path) -> subprocess.Popen[bytes] | None:
    if docker_answers():
        return None
    say("starting dockerd (vfs, host network only)")
    log = (workdir / "dockerd.log").open("wb")
    process = subprocess.Popen(
        ["dockerd", "--iptables=false", "--bridge=none", "--storage-driver=vfs"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(60):
        if docker_answers():
            return process
        time.sleep(1)
    process.terminate()
    raise SystemExit(f"dockerd did not start; see {workdir / 'dockerd.log'}")


def image_exists(tag: str) -> bool:
    return run("docker", "image", "inspect", tag, check=False, capture_output=True).returncode == 0


def build(tag: str, dockerfile: Path, context: Path) -> None:
    say(f"building {tag}")
    started = time.monotonic()
    run(
        "docker",
        "build",
        "--quiet",
        "--network",
        "host",
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        "-f",
        str(dockerfile),
        "-t",
        tag,
        str(context),
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        stdout=subprocess.DEVNULL,
    )
    say(f"built {tag} in {time.monotonic() - started:.0f} s")


def requirements() -> list[str]:
    declared: list[str] = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "dependencies"
    ]
    return declared


def fill_wheelhouse(wheelhouse: Path) -> None:
    """Wheels for the image's Python (Debian's 3.11.2, whose markers differ from the host's),
    downloaded by that Python itself; the host's CA bundle lets it through this machine's
    TLS-inspecting proxy."""
    stamp = wheelhouse / ".requirements"
    wanted = "\n".join(requirements()) + "\n" + (REPO / "constraints.txt").read_text()
    if stamp.exists() and stamp.read_text() == wanted and any(wheelhouse.glob("*.whl")):
        say("wheelhouse is up to date")
        return
    say("filling deploy/wheelhouse with the base image's pip")
    for old in wheelhouse.glob("*.whl"):
        old.unlink()
    (wheelhouse / ".requirements.txt").write_text("\n".join(requirements()) + "\n")
    mounts = ["-v", f"{wheelhouse}:/wheelhouse", "-v", f"{REPO / 'constraints.txt'}:/c.txt:ro"]
    if HOST_CA.exists():
        mounts += ["-v", f"{HOST_CA}:/etc/ssl/certs/ca-certificates.crt:ro"]
    docker(
        "run",
        "--rm",
        "--network",
        "host",
        *mounts,
        BASE_IMAGE,
        "pip",
        "download",
        "--quiet",
        "--dest",
        "/wheelhouse",
        "--constraint",
        "/c.txt",
        "--requirement",
        "/wheelhouse/.requirements.txt",
    )
    (wheelhouse / ".requirements.txt").unlink()
    stamp.write_text(wanted)


def app_context(workdir: Path) -> Path:
    """What Dockerfile.dockerignore lets through (the legacy builder, the only one without
    buildx, reads no per-Dockerfile ignore file)."""
    context = workdir / "context"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".requirements*")
    for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines():
        if line.startswith("!"):
            name = line[1:].rstrip("/")
            source, target = REPO / name, context / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=ignore)
            else:
                shutil.copy2(source, target)
    return context


# The stack -----------------------------------------------------------------------------------


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error}."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        current = env.get(name, "")
        if op == ":-":
            return current or arg
        if op == ":?" and not current:
            raise SystemExit(f"compose.yaml: {name} is unset: {arg}")
        return current

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def secrets_env() -> dict[str, str]:
    env = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            env[name] = secrets.token_hex(24) if value == "change-me" else value
    env["SINERGI_ADMIN_CLIENT_ID"] = "sinergi-admin"
    env["REPORTING_PSEUDONYM_KEY"] = secrets.token_hex(32)
    return env


class Stack:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
        self.env = secrets_env()
        self.services: dict[str, dict[str, Any]] = interpolate(self.compose["services"], self.env)
        self.ports: dict[int, int] = {}
        self.hosts = sorted(self.services)
        self.volumes: list[str] = []
        self.started: list[str] = []

    # Ports: every port a service listens on, mapped to a free one on this host.
    def listening_port(self, name: str) -> int | None:
        spec = self.services[name]
        command = spec.get("command") or []
        if "--port" in command:
            return int(command[command.index("--port") + 1])
        return {"postgres": 5432, "redis": 6379}.get(name)

    def map_ports(self) -> None:
        for name in self.services:
            port = self.listening_port(name)
            if port is not None and port not in self.ports:
                self.ports[port] = free_port()

    def remap(self, text: str) -> str:
        for old, new in self.ports.items():
            text = re.sub(rf"(?<=:){old}\b", str(new), text)
        return text

    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports[8000]}"

    def container(self, name: str) -> str:
        return PREFIX + name

    def image(self, spec: dict[str, Any]) -> str:
        image = str(spec["image"])
        return LOCAL_IMAGES[image][0] if image in LOCAL_IMAGES else APP_IMAGE

    def order(self) -> list[str]:
        done: list[str] = []

        def visit(name: str) -> None:
            if name in done:
                return
            for dependency in self.services[name].get("depends_on", {}):
                visit(dependency)
            done.append(name)

        for name in self.services:
            visit(name)
        return done

    def start(self, name: str) -> None:
        spec = self.services[name]
        for dependency, condition in spec.get("depends_on", {}).items():
            self.wait(dependency, condition["condition"])
        args = ["run", "-d", "--name", self.container(name), "--network", "host"]
        args += [f"--add-host={host}:127.0.0.1" for host in self.hosts]
        env = {k: self.remap(str(v)) for k, v in (spec.get("environment") or {}).items()}
        command = [self.remap(str(c)) for c in spec.get("command") or []]
        if "--port" in command:
            index = command.index("--port") + 1
            command[index] = str(self.ports[int(command[index])])
        if name == "postgres":
            env["PGPORT"] = str(self.ports[5432])
        if name == "redis":
            command += ["--port", str(self.ports[6379]), "--bind", "127.0.0.1"]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        if spec.get("read_only"):
            args.append("--read-only")
        for path in spec.get("tmpfs", []):
            args += ["--tmpfs", path]
        for option in spec.get("security_opt", []):
            args += ["--security-opt", option]
        for volume in spec.get("volumes", []):
            source, _, rest = volume.partition(":")
            if source.startswith("."):
                source = str(self.bind_source(source))
            else:
                source = PREFIX + source
                if source not in self.volumes:
                    docker("volume", "create", source)
                    self.volumes.append(source)
            args += ["-v", f"{source}:{rest}"]
        healthcheck = spec.get("healthcheck", {})
        if healthcheck.get("disable"):
            args.append("--no-healthcheck")
        elif "test" in healthcheck:
            test = list(healthcheck["test"][1:])
            if name == "redis":
                test += ["-p", str(self.ports[6379])]
            args += ["--health-cmd", " ".join(test), "--health-interval", "2s"]
            args += ["--health-retries", "60"]
        say(f"starting {name}")
        docker(*args, self.image(spec), *command)
        self.started.append(name)

    def bind_source(self, source: str) -> Path:
        if source == "./secrets":
            return self.workdir / "secrets"
        return (DEPLOY / source).resolve()

    def state(self, name: str) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(
            docker("inspect", "--format", "{{json .State}}", self.container(name))
        )
        return state

    def wait(self, name: str, condition: str, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(name)
            if condition == "service_completed_successfully" and not state["Running"]:
                if state["ExitCode"] != 0:
                    raise SystemExit(f"{name} exited {state['ExitCode']}:\n{self.logs(name)}")
                return
            if condition == "service_healthy":
                if not state["Running"]:
                    raise SystemExit(f"{name} stopped:\n{self.logs(name)}")
                if state.get("Health", {}).get("Status") == "healthy":
                    return
            if condition == "service_started" and state["Running"]:
                return
            time.sleep(1)
        raise SystemExit(f"{name}: not {condition} in {timeout:.0f} s:\n{self.logs(name)}")

    def logs(self, name: str) -> str:
        completed = run(
            "docker", "logs", "--tail", "40", self.container(name), check=False, capture_output=True
        )
        return (completed.stdout + completed.stderr)[-4000:]

    def up(self) -> None:
        self.map_ports()
        write_signing_key(self.workdir / "secrets")
        for name in self.order():
            self.start(name)
        for name in self.order():
            if not self.services[name].get("healthcheck", {}).get("disable"):
                self.wait(name, "service_healthy")
        say("every service is healthy")

    def down(self) -> None:
        for name in reversed(self.started):
            docker("rm", "-f", "-v", self.container(name), check=False, quiet=True)
        for volume in self.volumes:
            docker("volume", "rm", "-f", volume, check=False, quiet=True)


def write_signing_key(directory: Path) -> None:
    directory.mkdir(exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    path = directory / "signing-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chown(path, 10001, 10001)
    path.chmod(0o400)


# Checks --------------------------------------------------------------------------------------


def smoke(stack: Stack) -> None:
    from deploy.pilot.api import Gateway
    from deploy.pilot.data import KELUMPANG_HILIR
    from deploy.pilot.seed import admin_client, seed

    os.environ["SINERGI_ADMIN_CLIENT_ID"] = stack.env["SINERGI_ADMIN_CLIENT_ID"]
    os.environ["SINERGI_ADMIN_CLIENT_SECRET"] = stack.env["SINERGI_ADMIN_CLIENT_SECRET"]
    ready = httpx.get(stack.url() + "/readyz", timeout=10)
    if ready.status_code != 200:
        raise SystemExit(f"gateway not ready: {ready.text}")
    docs = httpx.get(stack.url() + "/docs", timeout=10)
    if docs.status_code != 200 or "/docs/assets/swagger-ui-bundle.js" not in docs.text:
        raise SystemExit("gateway /docs does not serve its own assets")
    say("smoke test: the pilot seed through the gateway (tokens, register import, residents)")
    with Gateway(stack.url()) as gateway:
        credentials = seed(gateway, residents=60, path=stack.workdir / "credentials.json", log=say)
        if not credentials.complete:
            raise SystemExit("the seed did not complete")
        admin = admin_client(gateway)
        deadline = time.monotonic() + 120
        counted: Any = None
        while time.monotonic() < deadline:
            summary = admin.get("/v1/reports/summary", params={"district_code": KELUMPANG_HILIR})
            counted = summary
            if _positive_counts(summary):
                say(f"report: {json.dumps(summary)[:300]}")
                return
            time.sleep(2)
    raise SystemExit(f"the report never counted the seeded residents: {counted}")


def _positive_counts(node: Any) -> bool:
    if isinstance(node, dict):
        return any(_positive_counts(v) for v in node.values())
    if isinstance(node, list):
        return any(_positive_counts(v) for v in node)
    return isinstance(node, int) and not isinstance(node, bool) and node > 0


def check_users_and_root_filesystems(stack: Stack) -> None:
    for name in stack.started:
        if not stack.state(name)["Running"]:
            continue
        container = stack.container(name)
        uid = docker("exec", container, "sh", "-c", "awk '/^Uid:/ {print $2}' /proc/1/status")
        if uid == "0" or not uid.isdigit():
            raise SystemExit(f"{name}: process 1 runs as uid {uid!r}")
        read_only = json.loads(
            docker("inspect", "--format", "{{json .HostConfig.ReadonlyRootfs}}", container)
        )
        wanted = bool(stack.services[name].get("read_only"))
        if read_only != wanted:
            raise SystemExit(
                f"{name}: read-only root filesystem is {read_only}, compose says {wanted}"
            )
        if wanted:
            probe = run(
                "docker", "exec", container, "sh", "-c", "touch /app-write-probe /etc/probe",
                check=False, capture_output=True,
            )  # fmt: skip
            if probe.returncode == 0:
                raise SystemExit(f"{name}: wrote to its root filesystem")
        say(f"{name}: uid {uid}, read-only root filesystem: {read_only}")


def main() -> int:
    if os.geteuid() != 0:
        raise SystemExit("make image-test runs as root (dockerd, debootstrap)")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="sinergi-image-test-"))
    workdir.chmod(0o755)  # the gateway (uid 10001) reads its key from workdir/secrets
    dockerd = start_dockerd(workdir)
    stack: Stack | None = None
    try:
        for name in docker("ps", "-aq", "--filter", f"name={PREFIX}").split():
            docker("rm", "-f", name, check=False, quiet=True)
        if not image_exists(BASE_IMAGE):
            run(str(DEPLOY / "base-image.sh"), BASE_IMAGE)
        fill_wheelhouse(DEPLOY / "wheelhouse")
        build(APP_IMAGE, DEPLOY / "Dockerfile", app_context(workdir))
        for tag, dockerfile in LOCAL_IMAGES.values():
            if not image_exists(tag):
                build(tag, DEPLOY / "debian" / dockerfile, DEPLOY / "debian")
        size = int(docker("image", "inspect", "--format", "{{.Size}}", APP_IMAGE))
        built = time.monotonic()
        stack = Stack(workdir)
        stack.up()
        smoke(stack)
        check_users_and_root_filesystems(stack)
        say(
            f"passed in {time.monotonic() - started:.0f} s (images {built - started:.0f} s, "
            f"stack and checks {time.monotonic() - built:.0f} s); {APP_IMAGE} is "
            f"{size / 1e6:.0f} MB"
        )
        return 0
    except BaseException:
        if stack is not None:
            for name in stack.started:
                print(f"--- {name} (tail) ---\n{stack.logs(name)}", file=sys.stderr)
        raise
    finally:
        if stack is not None:
            stack.down()
        if dockerd is not None:
            dockerd.terminate()
            dockerd.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
