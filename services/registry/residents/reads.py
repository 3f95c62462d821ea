"""``GET /v1/residents/{id}`` in one round trip: the scoped select and its audit record.

The read every frontend makes most. On PostgreSQL the select and the audit insert are one
statement (the insert a data-modifying CTE over the selected row), so the statement is the
whole transaction: the record commits with the read or neither happens. On SQLite (no DML in
a CTE) they are two statements of one transaction. The rules are those of ``access`` and
``service.read``, which the other routes keep using: who may see which resident, a provider's
read audited with its disclosure's purpose (and its own X-Purpose as the stated purpose), an
erased resident shown to the registry's organisations without a record (nothing personal is
left to disclose).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, insert, or_, select, true
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import CTE

from services.registry.audit.models import AuditRecord
from services.registry.disclosures.models import Disclosure
from services.registry.residents.models import Resident, ResidentView
from services.registry.residents.service import to_provider_view, to_public
from services.registry.settings import RegistrySettings
from shared.kit.database import AsyncStatementPool, StatementPool, table_of
from shared.kit.problems import NotFound
from shared.kit.time import utcnow
from shared.kit.tokens import Principal
from shared.programme.organisations import LOCAL_GOVERNMENT_TYPES, PROGRAMME_TYPES, PROVIDER_TYPES

ACTION = "resident.read"
RESIDENT = table_of(Resident)
AUDIT = table_of(AuditRecord)
DISCLOSURE = table_of(Disclosure)
RESIDENT_COLUMNS = tuple(column.key for column in RESIDENT.c)
AUDIT_COLUMNS = (
    "occurred_at",
    "subject",
    "org_id",
    "org_type",
    "resident_id",
    "purpose",
    "action",
    "stated_purpose",
)
# The region prefix as a LIKE pattern: "63.02" matches "63.02.17.2002", not "63.021".
LIKE_ESCAPE = "\\"


def _like_prefix(region: str) -> str:
    escaped = region.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ".%"


# Who reads decides the select: all residents (the programme's organisations), those of its
# region (local government) or those disclosed to it (a provider, with the disclosure's
# purpose). Built once per kind with bound parameters, so a request only binds values.
_KIND_PROGRAMME = "programme"
_KIND_REGION = "region"
_KIND_PROVIDER = "provider"


def _kind(principal: Principal) -> str | None:
    if principal.org_type in PROVIDER_TYPES:
        return _KIND_PROVIDER
    if principal.org_type in PROGRAMME_TYPES:
        return _KIND_PROGRAMME
    if principal.org_type in LOCAL_GOVERNMENT_TYPES and principal.region:
        return _KIND_REGION
    # Local government without a region, or an organisation type that reads no resident.
    return None


@cache
def _scoped_select(kind: str) -> Select[Any]:
    by_id = RESIDENT.c.id == bindparam("resident_id")
    if kind == _KIND_PROVIDER:
        # access.get_disclosed: the latest valid disclosure to this organisation, while the
        # resident's consent allows it (access.consent_allows).
        return (
            select(RESIDENT, DISCLOSURE.c.purpose.label("disclosed_for"))
            .join(
                DISCLOSURE,
                and_(
                    DISCLOSURE.c.resident_id == RESIDENT.c.id,
                    DISCLOSURE.c.org_id == bindparam("org_id"),
                    DISCLOSURE.c.valid_until >= bindparam("today"),
                ),
            )
            .where(
                by_id,
                or_(RESIDENT.c.consent_given.is_(None), RESIDENT.c.consent_given.is_(True)),
            )
            .order_by(DISCLOSURE.c.valid_until.desc())
            .limit(1)
        )
    if kind == _KIND_REGION:
        # access.in_region: the region's own code or a code below it.
        region = or_(
            RESIDENT.c.village_code == bindparam("region"),
            RESIDENT.c.village_code.like(bindparam("region_prefix"), escape=LIKE_ESCAPE),
        )
        return select(RESIDENT).where(by_id, region)
    return select(RESIDENT).where(by_id, true())


def _audit_source(read: CTE | Any, kind: str) -> Select[Any]:
    """The audit row of the resident read, as ``audit.service.record_access`` writes it."""
    if kind == _KIND_PROVIDER:
        purpose: Any = func.coalesce(func.nullif(read.c.disclosed_for, ""), ACTION)
        condition: Any = true()
    else:
        purpose = bindparam("purpose")
        # present(): an erased resident has nothing personal left, so no record.
        condition = read.c.erased_at.is_(None)
    return select(
        bindparam("occurred_at", type_=AUDIT.c.occurred_at.type),
        bindparam("subject"),
        bindparam("audit_org_id"),
        bindparam("org_type"),
        read.c.id,
        purpose,
        bindparam("action"),
        bindparam("stated_purpose"),
    ).where(condition)


@cache
def _read_and_audit(kind: str) -> Select[Any]:
    """PostgreSQL: the select, and its audit insert as a data-modifying CTE of it."""
    read = _scoped_select(kind).cte("r")
    audit = insert(AUDIT).from_select(AUDIT_COLUMNS, _audit_source(read, kind)).cte("a")
    return select(read).add_cte(audit)


def _parameters(
    principal: Principal, resident_id: str, purpose: str | None, now: datetime
) -> dict[str, Any]:
    stated = purpose[:200] if purpose else None
    region = principal.region or ""
    return {
        "resident_id": resident_id,
        "org_id": principal.org_id,
        "today": now.date(),
        "region": region,
        "region_prefix": _like_prefix(region),
        "occurred_at": now,
        "subject": principal.subject,
        "audit_org_id": principal.org_id,
        "org_type": principal.org_type,
        "purpose": (purpose or ACTION)[:200],
        "action": ACTION,
        "stated_purpose": stated,
    }


def _read(
    connection: Connection, kind: str, parameters: dict[str, Any], sqlite: bool
) -> RowMapping | None:
    if not sqlite:
        return connection.execute(_read_and_audit(kind), parameters).mappings().first()
    row = connection.execute(_scoped_select(kind), parameters).mappings().first()
    if row is not None:
        audit = _audit_row(row, kind, parameters)
        if audit is not None:
            connection.execute(insert(AUDIT), [audit])
    return row


async def _read_async(
    connection: AsyncConnection, kind: str, parameters: dict[str, Any], sqlite: bool
) -> RowMapping | None:
    if not sqlite:
        return (await connection.execute(_read_and_audit(kind), parameters)).mappings().first()
    row = (await connection.execute(_scoped_select(kind), parameters)).mappings().first()
    if row is not None:
        audit = _audit_row(row, kind, parameters)
        if audit is not None:
            await connection.execute(insert(AUDIT), [audit])
    return row


def _audit_row(row: RowMapping, kind: str, parameters: dict[str, Any]) -> dict[str, Any] | None:
    """SQLite's audit row: what ``_audit_source`` selects, from the row already read."""
    if kind == _KIND_PROVIDER:
        purpose = row["disclosed_for"] or ACTION
    elif row["erased_at"] is not None:
        return None
    else:
        purpose = parameters["purpose"]
    return {
        "occurred_at": parameters["occurred_at"],
        "subject": parameters["subject"],
        "org_id": parameters["audit_org_id"],
        "org_type": parameters["org_type"],
        "resident_id": row["id"],
        "purpose": purpose,
        "action": ACTION,
        "stated_purpose": parameters["stated_purpose"],
    }


def read(
    pool: StatementPool,
    principal: Principal,
    resident_id: str,
    settings: RegistrySettings,
    *,
    purpose: str | None,
) -> tuple[ResidentView, str]:
    """The resident as its reader's organisation may see it, and its ETag, its audit record
    written in the same transaction; 404 when out of sight (nothing is then written)."""
    kind, now, parameters = _prepare(principal, resident_id, purpose)
    row = pool.run(lambda connection: _read(connection, kind, parameters, pool.is_sqlite))
    return _view(row, kind, settings, now)


async def read_async(
    pool: AsyncStatementPool,
    principal: Principal,
    resident_id: str,
    settings: RegistrySettings,
    *,
    purpose: str | None,
) -> tuple[ResidentView, str]:
    """``read`` on an asyncio pool."""
    kind, now, parameters = _prepare(principal, resident_id, purpose)
    row = await pool.run(
        lambda connection: _read_async(connection, kind, parameters, pool.is_sqlite)
    )
    return _view(row, kind, settings, now)


def _prepare(
    principal: Principal, resident_id: str, purpose: str | None
) -> tuple[str, datetime, dict[str, Any]]:
    kind = _kind(principal)
    if kind is None:
        raise NotFound("no such resident")
    now = utcnow()
    return kind, now, _parameters(principal, resident_id, purpose, now)


def _view(
    row: RowMapping | None, kind: str, settings: RegistrySettings, now: datetime
) -> tuple[ResidentView, str]:
    if row is None:
        raise NotFound("no such resident")
    resident = Resident(**{name: row[name] for name in RESIDENT_COLUMNS})
    etag = f'"{resident.version}"'
    if kind == _KIND_PROVIDER:
        return to_provider_view(resident), etag
    return to_public(resident, settings, now.date()), etag
