"""Seed a running Sinergi stack with the Kotabaru pilot, through the gateway's REST API only.

    python -m deploy.pilot.seed              # make seed: seed the running stack if it is empty
    python -m deploy.pilot.seed --procfile   # make run: wait until ready, seed if empty, stay up

Each organisation acts with its own credentials, as it would in the programme: the secretariat
(admin) registers the organisations and the programme's stages and targets; every provider
pushes its own offers (the cement company's HR system by the batch, the others by
``PUT /v1/opportunities/external/{id}``); the social agency imports the national register as a
CSV; each village government verifies its residents and ranks part of them.

The programme counts as empty when the gateway knows no organisation besides the secretariat
and the internal services. Every step is idempotent (organisations by name, offers by external
id, residents by NIK, ranks and stages by PUT), and the credentials file is written after each
credential is issued, so a seed interrupted half-way resumes where it stopped when run again.
The credentials file (``var/demo-credentials.json``) is never written in production, and the
seed refuses to run there at all: synthetic residents do not belong in a real register.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from deploy.devstack import admin_credentials
from deploy.pilot import data
from deploy.pilot.api import Credential, Gateway, NotReady, OrgClient, UnexpectedAnswer, poll
from shared.kit.settings import sinergi_env

PROGRAMME_ORG_TYPES_IGNORED = frozenset({"admin", "service"})
IMPORT_TIMEOUT_SECONDS = 300.0
READY_TIMEOUT_SECONDS = 180.0
# Staff users who log in with a password (the other organisations use client credentials).
STAFF_USERS = {
    data.village_key(data.TARJUN): "operator.tarjun",
    data.SOCIAL_AGENCY: "operator.dinsos",
}
# Printed at the end of a seed; the file holds every organisation.
MAIN_ORGANISATIONS = (
    data.SECRETARIAT,
    data.SOCIAL_AGENCY,
    data.MANPOWER_AGENCY,
    data.village_key(data.TARJUN),
    data.CEMENT,
    data.NGO,
    data.PROVINCE,
)

Log = Callable[[str], None]


def data_dir() -> Path:
    return Path(os.environ.get("SINERGI_DATA_DIR", "var"))


def default_credentials_path() -> Path:
    return data_dir() / "demo-credentials.json"


class ProductionRefused(RuntimeError):
    pass


def refuse_production() -> None:
    if sinergi_env() == "production":
        raise ProductionRefused(
            "SINERGI_ENV=production: the demo seed puts synthetic residents in the register and "
            "writes secrets to a file, so it never runs in production"
        )


# The credentials file ----------------------------------------------------------------------


@dataclass
class OrgEntry:
    key: str
    name: str
    type: str
    region_code: str | None
    id: str
    client_id: str | None = None
    client_secret: str | None = None
    role: str = ""

    @property
    def credential(self) -> Credential:
        if not self.client_id or not self.client_secret:
            raise KeyError(f"no client credentials for {self.key}")
        return Credential(self.client_id, self.client_secret)


@dataclass
class StaffEntry:
    organisation: str
    username: str
    password: str


@dataclass
class PilotCredentials:
    """``var/demo-credentials.json``: who is who in the seeded pilot, with their secrets."""

    gateway: str
    organisations: dict[str, OrgEntry] = field(default_factory=dict)
    staff_users: list[StaffEntry] = field(default_factory=list)
    complete: bool = False
    seeded_at: str | None = None
    residents: int = 0

    def org(self, key: str) -> OrgEntry:
        try:
            return self.organisations[key]
        except KeyError:
            raise KeyError(f"{key} is not in the credentials file; run `make seed`") from None

    def client(self, gateway: Gateway, key: str) -> OrgClient:
        entry = self.org(key)
        return gateway.client(entry.credential, entry.name)

    def to_json(self) -> dict[str, Any]:
        return {
            "warning": "Development credentials of the synthetic Kotabaru pilot. Never use them "
            "in production; make seed refuses to write them there.",
            "gateway": self.gateway,
            "complete": self.complete,
            "seeded_at": self.seeded_at,
            "residents": self.residents,
            "organisations": [asdict(e) for e in self.organisations.values()],
            "staff_users": [asdict(u) for u in self.staff_users],
        }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> PilotCredentials:
        return cls(
            gateway=document["gateway"],
            organisations={o["key"]: OrgEntry(**o) for o in document["organisations"]},
            staff_users=[StaffEntry(**u) for u in document.get("staff_users", [])],
            complete=bool(document.get("complete")),
            seeded_at=document.get("seeded_at"),
            residents=int(document.get("residents", 0)),
        )

    def save(self, path: Path) -> None:
        refuse_production()
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        # Secrets: readable by the owner only, and replaced atomically so a crash never leaves
        # half a file.
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self.to_json(), handle, indent=2, ensure_ascii=False)
            handle.write("\n")
        os.replace(temporary, path)


def load_credentials(path: Path | None = None) -> PilotCredentials | None:
    path = path or default_credentials_path()
    if not path.is_file():
        return None
    return PilotCredentials.from_json(json.loads(path.read_text(encoding="utf-8")))


# Steps ---------------------------------------------------------------------------------------


def admin_client(gateway: Gateway) -> OrgClient:
    client_id, secret, _ = admin_credentials()
    return gateway.client(Credential(client_id, secret), "secretariat (admin)")


def programme_organisations(admin: OrgClient) -> list[dict[str, Any]]:
    """The organisations of the programme: everything but the secretariat and the services."""
    return [
        o for o in admin.pages("/v1/organisations") if o["type"] not in PROGRAMME_ORG_TYPES_IGNORED
    ]


def register_organisations(
    admin: OrgClient, credentials: PilotCredentials, path: Path, log: Log
) -> None:
    client_id, secret, _ = admin_credentials()
    secretariat = next(
        (o for o in admin.pages("/v1/organisations", params={"type": "admin"})), None
    )
    if secretariat is not None:
        credentials.organisations[data.SECRETARIAT] = OrgEntry(
            key=data.SECRETARIAT,
            name=secretariat["name"],
            type="admin",
            region_code=None,
            id=secretariat["id"],
            client_id=client_id,
            client_secret=secret,
            role="programme secretariat: organisations, stages, targets, audit",
        )
    issued = 0
    for spec in data.organisations():
        # Registering the same name and details again answers 200 with the same organisation.
        organisation = admin.post(
            "/v1/organisations",
            json={"name": spec.name, "type": spec.type, "region_code": spec.region_code},
            expect=(200, 201),
        )
        entry = credentials.organisations.get(spec.key)
        if entry is None or entry.id != organisation["id"] or not entry.client_secret:
            client = admin.post(
                f"/v1/organisations/{organisation['id']}/clients",
                json={"label": "pilot seed"},
                expect=201,
            )
            entry = OrgEntry(
                key=spec.key,
                name=spec.name,
                type=spec.type,
                region_code=spec.region_code,
                id=organisation["id"],
                client_id=client["client_id"],
                client_secret=client["client_secret"],
                role=spec.role,
            )
            credentials.organisations[spec.key] = entry
            # Saved at once: a secret is shown only in the response that issued it.
            credentials.save(path)
            issued += 1
    for key, username in STAFF_USERS.items():
        if any(u.username == username for u in credentials.staff_users):
            continue
        password = secrets.token_urlsafe(18)
        response = admin.request(
            "POST",
            f"/v1/organisations/{credentials.org(key).id}/users",
            json={"username": username, "password": password},
            expect=(201, 409),
        )
        if response.status_code == 201:
            credentials.staff_users.append(StaffEntry(key, username, password))
            credentials.save(path)
    log(
        f"  {len(data.organisations())} organisations registered, "
        f"{issued} client credentials issued"
    )


def set_stages_and_targets(admin: OrgClient, log: Log) -> None:
    for code, plan in data.STAGES.items():
        admin.put(f"/v1/program/stages/{code}", json=plan)
    admin.put("/v1/program/targets", json={"targets": data.TARGETS})
    log(f"  {len(data.STAGES)} programme stages (2025 calendar) and the districts' targets set")


def publish_opportunities(
    gateway: Gateway, credentials: PilotCredentials, today: date, log: Log
) -> None:
    close = data.applications_close(today)
    by_provider: dict[str, list[data.OpportunitySpec]] = {}
    for spec in data.opportunities():
        by_provider.setdefault(spec.provider, []).append(spec)

    def push(provider: str) -> int:
        client = credentials.client(gateway, provider)
        specs = by_provider[provider]
        if provider == data.CEMENT:
            # The cement company's HR system sends its whole list in one batch.
            items = [{"external_id": s.external_id, **s.body(close)} for s in specs]
            answer = client.post("/v1/opportunities/batch", json={"items": items})
            if answer["failed"]:
                errors = [i for i in answer["items"] if i["result"] == "error"]
                raise RuntimeError(f"the cement batch failed for {errors}")
            return len(specs)
        for spec in specs:
            client.put(
                f"/v1/opportunities/external/{spec.external_id}",
                json=spec.body(close),
                expect=(200, 201),
            )
        return len(specs)

    with ThreadPoolExecutor(max_workers=4) as pool:
        total = sum(pool.map(push, sorted(by_provider)))
    log(
        f"  {total} opportunities pushed by {len(by_provider)} providers "
        f"(applications open until {close.isoformat()})"
    )


def import_register(
    social: OrgClient, records: list[data.ResidentRecord], log: Log
) -> dict[str, Any]:
    """The social agency uploads the register extract and waits for the row report."""
    report = upload_import(
        social,
        "dtsen-kotabaru-pilot.csv",
        data.residents_csv(records),
        what="the register import",
        timeout=IMPORT_TIMEOUT_SECONDS,
    )
    if report["status"] != "done" or report["rejected"]:
        raise RuntimeError(
            f"the register import ended {report['status']} with {report['rejected']} rejected "
            f"rows: {report['rejections'][:5]} {report.get('error') or ''}"
        )
    log(
        f"  register imported by the social agency: {report['created']} created, "
        f"{report['updated']} updated, {report['unchanged']} unchanged"
    )
    return report


def upload_import(
    client: OrgClient, filename: str, content: bytes, *, what: str, timeout: float
) -> dict[str, Any]:
    """Upload an import file and wait for its job to end, done or failed: its row report."""
    job = client.post(
        "/v1/residents/import", files={"file": (filename, content, "text/csv")}, expect=202
    )
    report: dict[str, Any] = poll(
        what,
        lambda: _finished(client.get(f"/v1/residents/imports/{job['id']}")),
        timeout=timeout,
    )
    return report


def _finished(job: dict[str, Any]) -> dict[str, Any] | None:
    return job if job["status"] in ("done", "failed") else None


def village_work(
    gateway: Gateway, credentials: PilotCredentials, plans: list[data.VillagePlan], log: Log
) -> None:
    """Each village government verifies its residents and ranks part of them."""
    clients = {
        plan.village_code: credentials.client(gateway, data.village_key(plan.village_code))
        for plan in plans
    }
    # Listing first, one village after the other: a read of personal data writes audit
    # records, and on SQLite such a read fails when writes run beside it (reported).
    ids: dict[str, str] = {}
    for plan in plans:
        for resident in clients[plan.village_code].pages(
            "/v1/residents",
            params={"village_code": plan.village_code},
            headers=_purpose("verification"),
        ):
            ids[resident["nik"]] = resident["id"]

    def work(plan: data.VillagePlan) -> tuple[int, int]:
        village = clients[plan.village_code]
        for nik in plan.verify:
            village.post(f"/v1/residents/{ids[nik]}/verify", headers=_purpose("verification"))
        for rank, nik in enumerate(plan.ranking, start=1):
            village.put(
                f"/v1/residents/{ids[nik]}/priority",
                json={"rank": rank},
                headers=_purpose("village priority"),
            )
        return len(plan.verify), len(plan.ranking)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, plans))
    log(
        f"  {len(plans)} village governments verified {sum(v for v, _ in results)} residents "
        f"and ranked {sum(r for _, r in results)}"
    )


def _purpose(why: str) -> dict[str, str]:
    return {"X-Purpose": f"pilot seed: {why}"}


# The whole seed --------------------------------------------------------------------------------


def seed(
    gateway: Gateway,
    *,
    residents: int = data.DEFAULT_RESIDENTS,
    path: Path | None = None,
    today: date | None = None,
    log: Log = print,
    resume: PilotCredentials | None = None,
) -> PilotCredentials:
    """Seed the pilot and return its credentials (also saved to ``path``)."""
    refuse_production()
    path = path or default_credentials_path()
    today = today or datetime.now(UTC).date()
    started = time.monotonic()
    credentials = resume or PilotCredentials(gateway=gateway.base_url)
    credentials.complete = False
    # Recorded from the start, so an interrupted seed resumes with the same population.
    credentials.residents = residents
    admin = admin_client(gateway)

    log("Seeding the Kotabaru pilot (63.02.06 Pulaulaut Utara, 63.02.17 Kelumpang Hilir):")
    register_organisations(admin, credentials, path, log)
    set_stages_and_targets(admin, log)
    publish_opportunities(gateway, credentials, today, log)
    records = data.generate_residents(residents)
    import_register(credentials.client(gateway, data.SOCIAL_AGENCY), records, log)
    village_work(gateway, credentials, data.village_plans(records), log)

    credentials.complete = True
    credentials.seeded_at = datetime.now(UTC).isoformat(timespec="seconds")
    credentials.save(path)
    log(f"  done in {time.monotonic() - started:.0f} s; credentials in {path}")
    return credentials


def summary(credentials: PilotCredentials, path: Path) -> str:
    lines = ["", f"Kotabaru pilot: main credentials (development only; all of them in {path})"]
    width = max(
        len(credentials.org(k).name) for k in MAIN_ORGANISATIONS if k in credentials.organisations
    )
    for key in MAIN_ORGANISATIONS:
        entry = credentials.organisations.get(key)
        if entry is None:
            continue
        lines.append(
            f"  {entry.name:<{width}}  {entry.type:<18}  "
            f"client_id={entry.client_id}  client_secret={entry.client_secret}"
        )
    for user in credentials.staff_users:
        lines.append(
            f"  staff user {user.username} ({credentials.org(user.organisation).name}): "
            f"password={user.password}"
        )
    lines.append("  Walk through the pilot: make demo (in a second terminal)")
    lines.append("")
    return "\n".join(lines)


def seed_if_empty(gateway: Gateway, *, path: Path, residents: int, log: Log) -> str:
    """Seed an empty programme, resume an interrupted seed, or leave a seeded one alone.
    Returns what happened: ``seeded``, ``resumed`` or ``already seeded``."""
    admin = admin_client(gateway)
    existing = {o["id"] for o in programme_organisations(admin)}
    saved = load_credentials(path)
    if not existing:
        credentials = seed(gateway, residents=residents, path=path, log=log)
        log(summary(credentials, path))
        return "seeded"
    if (
        saved is not None
        and not saved.complete
        and {e.id for e in saved.organisations.values() if e.type != "admin"} <= existing
    ):
        log("An earlier seed stopped half-way; resuming it.")
        credentials = seed(
            gateway, residents=saved.residents or residents, path=path, log=log, resume=saved
        )
        log(summary(credentials, path))
        return "resumed"
    log(f"The programme already has {len(existing)} organisations: not seeding again.")
    if saved is not None and saved.complete:
        log(summary(saved, path))
    return "already seeded"


def _stay_alive(log: Log) -> int:
    """honcho stops every process when one exits, so the seed process waits for Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log("seed: idle until the stack stops (Ctrl-C)")
    stop.wait()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deploy.pilot.seed", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--gateway", default=None, help="gateway URL (SINERGI_GATEWAY_URL, :8000)")
    parser.add_argument("--residents", type=int, default=data.DEFAULT_RESIDENTS)
    parser.add_argument("--credentials", type=Path, default=None, help="credentials file")
    parser.add_argument(
        "--wait", type=float, default=READY_TIMEOUT_SECONDS, help="seconds to wait for /readyz"
    )
    parser.add_argument(
        "--procfile", action="store_true", help="as a Procfile process: stay alive after seeding"
    )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, flush=True)

    path = args.credentials or default_credentials_path()
    status = 0
    try:
        refuse_production()
        with Gateway(args.gateway) as gateway:
            gateway.wait_ready(
                args.wait,
                on_wait=lambda left: log(
                    f"seed: waiting for {gateway.base_url}/readyz ({left:.0f} s left)"
                ),
            )
            seed_if_empty(gateway, path=path, residents=args.residents, log=log)
    except ProductionRefused as exc:
        log(f"seed: {exc}")
        status = 2
    except KeyboardInterrupt:
        # Ctrl-C while seeding: what was done stays, and the next seed resumes it.
        log("seed: interrupted; `make seed` finishes it")
        return 130
    except (NotReady, UnexpectedAnswer, RuntimeError, TimeoutError, KeyError) as exc:
        log(f"seed: FAILED: {exc}")
        log("seed: the services keep running; fix the cause and run `make seed` to finish.")
        status = 1
    if args.procfile:
        # A failed seed must not take the running services down with it.
        return _stay_alive(log)
    return status


if __name__ == "__main__":
    sys.exit(main())
