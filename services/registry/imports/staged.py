"""New residents of an import written set-based on PostgreSQL: the chunk's rows are copied
into a staging table once, and the residents, their history, their decile history and their
changes on the feed are each one ``INSERT … SELECT`` from it.

What Python would compute per row is computed in SQL from the staged values, by the same
rules as ``residents.records`` (district and regency from the village, the feed's snapshot
with age and target group); the tests compare what this path writes with the row-by-row path
on the same file. A NIK registered by someone else meanwhile fails the insert on its unique
index, and the chunk is redone row by row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.orm import Session

from services.registry.imports.parsing import collector_paused
from services.registry.imports.rows import RowOutcome
from services.registry.residents import records
from services.registry.settings import RegistrySettings
from shared.kit.time import utcnow
from shared.kit.tokens import Principal

# The values a new resident is made of, and what its history entry names.
STAGED = (
    ("ordinal", "integer"),
    # Drawn by the database as the rows are copied (the text of a version 4 UUID, as
    # ``records.new_id`` makes it): no random bytes read per row in the worker.
    ("id", "varchar(36) DEFAULT gen_random_uuid()::text"),
    ("nik", "varchar(16)"),
    ("family_card_number", "varchar(16)"),
    ("full_name", "varchar(120)"),
    ("name_key", "varchar(120)"),
    ("sex", "varchar(1)"),
    ("birth_date", "date"),
    ("village_code", "varchar(13)"),
    ("address", "varchar(300)"),
    ("phone", "varchar(16)"),
    ("education_level", "varchar(20)"),
    ("skills", "json"),
    ("employment_status", "varchar(20)"),
    ("monthly_income_idr", "bigint"),
    ("household_size", "integer"),
    ("welfare_decile", "integer"),
    ("disability", "json"),
    ("fields", "json"),
)
_NAMES = [name for name, _ in STAGED]
# Copied by the worker: all but the id.
_COPIED = [name for name in _NAMES if name != "id"]
# Taken from a row's values as they are.
_AS_GIVEN = [name for name in _COPIED if name not in ("ordinal", "name_key", "fields")]
_CREATE = (
    "CREATE TEMP TABLE IF NOT EXISTS import_stage ("
    + ", ".join(f"{name} {kind}" for name, kind in STAGED)
    + ") ON COMMIT DELETE ROWS"
)
_COPY = f"COPY import_stage ({', '.join(_COPIED)}) FROM STDIN"
_LIST_FIELDS = ("skills", "disability")

_RESIDENTS = """
INSERT INTO resident (
    id, nik, family_card_number, full_name, name_key, sex, birth_date, village_code,
    district_code, regency_code, address, phone, education_level, skills, employment_status,
    monthly_income_idr, household_size, welfare_decile, disability,
    decile_source, decile_edition, decile_effective_on,
    status, version, source_org_id, registered_at, updated_at
)
SELECT
    id, nik, family_card_number, full_name, name_key, sex, birth_date, village_code,
    left(village_code, 8), left(village_code, 5), address, phone, education_level,
    coalesce(skills, '[]'::json), employment_status, monthly_income_idr, household_size,
    welfare_decile, coalesce(disability, '[]'::json),
    CASE WHEN welfare_decile IS NOT NULL THEN %(source)s::text END,
    CASE WHEN welfare_decile IS NOT NULL THEN %(edition)s::text END,
    CASE WHEN welfare_decile IS NOT NULL THEN %(effective_on)s::date END,
    'registered', 1, %(org_id)s::text, %(at)s::timestamptz, %(at)s::timestamptz
FROM import_stage ORDER BY ordinal
"""

_HISTORY = """
INSERT INTO resident_change (resident_id, version, event, fields, org_id, org_type, subject,
                             changed_at)
SELECT id, 1, 'created', fields, %(org_id)s::text, %(org_type)s::text, %(subject)s::text,
       %(at)s::timestamptz
FROM import_stage ORDER BY ordinal
"""

_DECILES = """
INSERT INTO resident_decile (resident_id, welfare_decile, source, edition, effective_on, org_id,
                             recorded_at)
SELECT id, welfare_decile, %(source)s::text, %(edition)s::text, %(effective_on)s::date,
       %(org_id)s::text, %(at)s::timestamptz
FROM import_stage WHERE welfare_decile IS NOT NULL ORDER BY ordinal
"""

# records.snapshot in SQL: the same keys, values and derived fields.
_OUTBOX = """
INSERT INTO outbox (txid, entity, entity_id, event, version, payload, occurred_at)
SELECT pg_current_xact_id()::text::bigint, %(entity)s::text, id, 'created', 1, json_build_object(
    'id', id, 'version', 1, 'village_code', village_code,
    'district_code', left(village_code, 8), 'regency_code', left(village_code, 5),
    'birth_month', to_char(birth_date, 'YYYY-MM'), 'age', age,
    'sex', sex, 'education_level', education_level, 'skills', coalesce(skills, '[]'::json),
    'employment_status', employment_status, 'welfare_decile', welfare_decile,
    'decile_source', CASE WHEN welfare_decile IS NOT NULL THEN %(source)s::text END,
    'decile_edition', CASE WHEN welfare_decile IS NOT NULL THEN %(edition)s::text END,
    'decile_effective_on',
        CASE WHEN welfare_decile IS NOT NULL THEN to_char(%(effective_on)s::date, 'YYYY-MM-DD') END,
    'household_size', household_size, 'disability', coalesce(disability, '[]'::json),
    'productive_age', productive,
    'in_target_group', productive AND welfare_decile IS NOT NULL
        AND welfare_decile <= %(target_max_decile)s::int,
    'status', 'registered', 'priority_rank', NULL,
    'registered_at', %(at_iso)s::text, 'verified_at', NULL, 'independent_at', NULL,
    'follow_up', NULL, 'cohort', NULL, 'graduation', NULL, 'consent', NULL
), %(occurred_at)s::timestamptz
FROM (
    SELECT *, age BETWEEN %(productive_min)s::int AND %(productive_max)s::int AS productive
    FROM (
        SELECT *, date_part('year', age(%(today)s::date, birth_date))::int AS age
        FROM import_stage
    ) aged
) staged ORDER BY ordinal
"""


def insert_new(
    session: Session,
    principal: Principal,
    rows: Sequence[RowOutcome],
    stamp: dict[str, Any],
    settings: RegistrySettings,
    at: datetime,
) -> None:
    """Write ``rows`` (a new resident's validated values each, without consent) as new
    residents, with their history, decile history and feed changes. ``stamp`` is the edition
    their deciles come from. A row's staged line is usually made by the validating thread
    (``Lines``), so this thread, the one holding the transaction, mostly waits on the
    database; a row without one gets it here."""
    raw = session.connection().connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("staging needs a psycopg connection")
    with collector_paused():
        lines = Lines()
        text = "".join([row.staged if row.staged is not None else lines.of(row) for row in rows])
    with raw.cursor() as cursor:
        cursor.execute(_CREATE)
        # Empty at a chunk's start (its rows go at commit), not when a chunk redone row by row
        # stages its second row in the same transaction.
        cursor.execute("DELETE FROM import_stage")
        with cursor.copy(_COPY) as copy:
            copy.write(text)
        del text
        parameters = _parameters(principal, stamp, settings, at)
        # A plain INSERT, not ``ON CONFLICT DO NOTHING``: its unique violation (a NIK
        # registered meanwhile) is one of ``bulk.CONFLICTS``, and the chunk is redone row by
        # row all the same, without probing each unique index once more for every row.
        cursor.execute(_RESIDENTS, parameters)
        cursor.execute(_HISTORY, parameters)
        cursor.execute(_DECILES, parameters)
        cursor.execute(_OUTBOX, parameters)


# COPY's text format: a tab between cells, \N for NULL, and these escaped within a cell.
_SPECIAL = re.compile(r"[\\\t\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _cell(value: Any) -> str:
    """A value as a cell of COPY's text format, as psycopg's text dumpers write it."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES) if _SPECIAL.search(value) else value
    if isinstance(value, bool):
        raise TypeError("no staged column is boolean")
    if isinstance(value, (int, date)):
        # A date's ISO form is what the ``date`` column reads (and what psycopg sends).
        return value.isoformat() if isinstance(value, date) else str(value)
    raise TypeError(f"cannot stage a {type(value).__name__}")


class Lines:
    """A new resident's line of ``import_stage`` in COPY's text format, in ``_COPIED``'s
    order. A register repeats itself (names in a family, the same skills, the same fields
    given), so each distinct name key, list and field list is computed once; one ``Lines``
    serves a batch of rows and is then dropped, its memory with it."""

    def __init__(self) -> None:
        self._name_keys: dict[str, str] = {}
        self._fields: dict[tuple[str, ...], str] = {}
        self._lists: dict[tuple[str, ...], str] = {}

    def of(self, row: RowOutcome) -> str:
        values = row.values
        cells = [str(row.row)]  # the ordinal: rows are staged, and read back, in file order
        for name in _COPIED[1:]:
            if name == "name_key":
                full_name = values["full_name"]
                key = self._name_keys.get(full_name)
                if key is None:
                    key = self._name_keys[full_name] = _cell(records.name_key(full_name))
                cells.append(key)
            elif name == "fields":
                names = tuple(sorted(values))
                given = self._fields.get(names)
                if given is None:
                    given = self._fields[names] = _cell(json.dumps(list(names)))
                cells.append(given)
            elif name in _LIST_FIELDS:
                value = values.get(name)
                if value is None:
                    cells.append("\\N")
                    continue
                items = tuple(value)
                listed = self._lists.get(items)
                if listed is None:
                    listed = self._lists[items] = _cell(json.dumps(value))
                cells.append(listed)
            else:
                cells.append(_cell(values.get(name)))
        return "\t".join(cells) + "\n"


def _parameters(
    principal: Principal, stamp: dict[str, Any], settings: RegistrySettings, at: datetime
) -> dict[str, Any]:
    today: date = utcnow().date()
    return {
        "org_id": principal.org_id,
        "org_type": principal.org_type,
        "subject": principal.subject,
        "at": at,
        "at_iso": records.iso(at),
        "occurred_at": utcnow(),
        "today": today,
        "entity": records.ENTITY,
        "source": stamp["decile_source"],
        "edition": stamp["decile_edition"],
        "effective_on": stamp["decile_effective_on"],
        "target_max_decile": settings.target_max_decile,
        "productive_min": settings.productive_age_min,
        "productive_max": settings.productive_age_max,
    }


def update_existing(
    session: Session, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """Write merged residents (``columns`` of each, by ``id``) with one ``UPDATE … FROM`` a
    staging table shaped like those columns of ``resident``."""
    raw = session.connection().connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("staging needs a psycopg connection")
    names = sql.SQL(", ").join(sql.Identifier(name) for name in ("id", *columns))
    assignments = sql.SQL(", ").join(
        sql.SQL("{0} = staged.{0}").format(sql.Identifier(name)) for name in columns
    )
    with raw.cursor() as cursor:
        cursor.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS import_update_stage ON COMMIT DELETE ROWS AS "
                "SELECT {} FROM resident WITH NO DATA"
            ).format(names)
        )
        cursor.execute("DELETE FROM import_update_stage")  # as in insert_new
        with cursor.copy(sql.SQL("COPY import_update_stage ({}) FROM STDIN").format(names)) as copy:
            for record in rows:
                copy.write_row(
                    [record["id"]]
                    + [
                        json.dumps(record[name]) if name in _LIST_FIELDS else record[name]
                        for name in columns
                    ]
                )
        cursor.execute(
            sql.SQL(
                "UPDATE resident SET {} FROM import_update_stage staged "
                "WHERE resident.id = staged.id"
            ).format(assignments)
        )
