"""Register extracts as agencies hold them: which column is which field, and their values in
Sinergi's words.

The social agency's lists come from the national socio-economic register (DTSEN, earlier DTKS
and P3KE extracts): Indonesian headers (``NIK``, ``NO_KK``, ``NAMA``, ``JENIS_KELAMIN`` …),
sex as L/P, dates as DD-MM-YYYY, village codes without dots, and more columns than Sinergi
keeps. Headers are compared case- and space-insensitively; a ``mapping`` (column to field)
names the columns of any other layout.

A file in Sinergi's own column names is read strictly: a column it does not know is most
likely a misspelt one, and the job fails naming it. A register extract (any register header)
or a mapped file has the columns it does not use ignored and listed in the job's warnings.

Values are normalised whatever the layout, and only when they are recognised for certain: a
value that is none of the known spellings reaches validation as it came, so its rejection says
what it always said.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.registry.imports.rows import COLUMNS, REQUIRED_COLUMNS

# Register headers, by their normalised spelling (``header_key``), to Sinergi's fields.
ALIASES: dict[str, str] = {
    "nik": "nik",
    "no_kk": "family_card_number",
    "nokk": "family_card_number",
    "nomor_kk": "family_card_number",
    "nama": "full_name",
    "nama_lengkap": "full_name",
    "jenis_kelamin": "sex",
    "jk": "sex",
    "tanggal_lahir": "birth_date",
    "tgl_lahir": "birth_date",
    "kode_desa": "village_code",
    "kd_desa": "village_code",
    "kode_kelurahan": "village_code",
    "alamat": "address",
    "desil": "welfare_decile",
    "desil_nasional": "welfare_decile",
    "pekerjaan": "employment_status",
    "pendidikan": "education_level",
    "jumlah_art": "household_size",
    "no_hp": "phone",
    "no_telp": "phone",
}
_SEPARATORS = re.compile(r"[\s\-]+")


def header_key(name: str) -> str:
    """A header as it is compared: trimmed, lower case, runs of spaces and dashes as one ``_``."""
    return _SEPARATORS.sub("_", name.strip()).strip("_").lower()


class MappingRejected(ValueError):
    """The ``mapping`` form field is not a JSON object of column to field; the message says why."""


def parse_mapping(text: str | None) -> dict[str, str]:
    """The ``mapping`` form field: a JSON object from the file's column names to Sinergi's
    fields (``{"ID_ART": "nik", "NAMA_ART": "full_name"}``); empty when not given."""
    if text is None or not text.strip():
        return {}
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise MappingRejected("must be a JSON object of column to field") from exc
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
    ):
        raise MappingRejected("must be a JSON object of column to field")
    unknown = sorted({v for v in loaded.values() if v not in COLUMNS})
    if unknown:
        raise MappingRejected(
            f"maps to unknown field(s) {', '.join(unknown)}; fields are {', '.join(COLUMNS)}"
        )
    keys = [header_key(k) for k in loaded]
    if len(set(keys)) != len(keys) or not all(keys):
        raise MappingRejected("names a column twice, or an empty one")
    return {header_key(k): v for k, v in loaded.items()}


def names_a_field(header: list[str], mapping: Mapping[str, str]) -> bool:
    """Whether a first line is a resident list at all: some column is one we can use."""
    return any(_field_of(header_key(name), mapping) for name in header)


def _field_of(key: str, mapping: Mapping[str, str]) -> str | None:
    if key in mapping:
        return mapping[key]
    if key in COLUMNS:
        return key
    return ALIASES.get(key)


@dataclass(slots=True)
class Layout:
    """What the header says: the field each column fills ("" for a column not used), the
    columns ignored (the job's warnings), and the problems that fail the job."""

    fields: list[str]
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def resolve(header: list[str], mapping: Mapping[str, str]) -> Layout:
    keys = [header_key(name) for name in header]
    fields = [(_field_of(key, mapping) or "") if key else "" for key in keys]
    register = bool(mapping) or any(
        key in ALIASES and key not in COLUMNS for key in keys if key not in mapping
    )
    unused = [
        name.strip() for name, key, f in zip(header, keys, fields, strict=True) if key and not f
    ]
    layout = Layout(fields=fields)
    if unused and register:
        layout.warnings.append(f"column(s) not used and ignored: {', '.join(unused)}")
    elif unused:
        layout.problems.append(
            f"unknown column(s) {', '.join(unused)}; columns are {', '.join(COLUMNS)}"
        )
    absent = sorted(set(mapping) - set(keys))
    if absent:
        layout.problems.append(f"the mapping names column(s) not in the file: {', '.join(absent)}")
    missing = [name for name in REQUIRED_COLUMNS if name not in fields]
    if missing:
        layout.problems.append(f"required column(s) missing: {', '.join(missing)}")
    duplicated = sorted({name for name in fields if name and fields.count(name) > 1})
    if duplicated:
        layout.problems.append(f"column(s) given twice: {', '.join(duplicated)}")
    return layout


# --- values ---------------------------------------------------------------------------------

SEXES = {
    "L": "M",
    "LAKI-LAKI": "M",
    "LAKI LAKI": "M",
    "LAKI": "M",
    "PRIA": "M",
    "P": "F",
    "PEREMPUAN": "F",
    "WANITA": "F",
}
# PEKERJAAN as the register writes it, to Sinergi's employment status.
EMPLOYMENT = {
    "TIDAK BEKERJA": "unemployed",
    "BELUM/TIDAK BEKERJA": "unemployed",
    "BELUM BEKERJA": "unemployed",
    "PENGANGGURAN": "unemployed",
    "PELAJAR": "student",
    "MAHASISWA": "student",
    "PELAJAR/MAHASISWA": "student",
    "WIRASWASTA": "self_employed",
    "WIRAUSAHA": "self_employed",
    "PEDAGANG": "self_employed",
    "KARYAWAN SWASTA": "employed",
    "KARYAWAN": "employed",
    "PNS": "employed",
    "PEGAWAI NEGERI SIPIL": "employed",
    "TNI": "employed",
    "POLRI": "employed",
    "BURUH": "informal",
    "BURUH HARIAN LEPAS": "informal",
    "PETANI": "informal",
    "PETANI/PEKEBUN": "informal",
    "NELAYAN": "informal",
    "NELAYAN/PERIKANAN": "informal",
}
# PENDIDIKAN (highest completed) to Sinergi's education level.
EDUCATION = {
    "TIDAK SEKOLAH": "none",
    "TIDAK/BELUM SEKOLAH": "none",
    "BELUM SEKOLAH": "none",
    "TIDAK TAMAT SD": "none",
    "SD": "primary",
    "SD/SEDERAJAT": "primary",
    "SD/MI": "primary",
    "SMP": "junior_secondary",
    "SMP/SEDERAJAT": "junior_secondary",
    "SMP/MTS": "junior_secondary",
    "SLTP": "junior_secondary",
    "SMA": "senior_secondary",
    "SMA/SEDERAJAT": "senior_secondary",
    "SMA/MA": "senior_secondary",
    "SLTA": "senior_secondary",
    "SLTA/SEDERAJAT": "senior_secondary",
    "SMK": "senior_secondary",
    "D1": "diploma",
    "D2": "diploma",
    "D3": "diploma",
    "DIPLOMA": "diploma",
    "DIPLOMA I/II": "diploma",
    "DIPLOMA III": "diploma",
    "D4": "bachelor",
    "S1": "bachelor",
    "DIPLOMA IV/STRATA I": "bachelor",
    "S2": "postgraduate",
    "S3": "postgraduate",
    "STRATA II": "postgraduate",
    "STRATA III": "postgraduate",
}
_DAY_FIRST = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_UNDOTTED_VILLAGE = re.compile(r"^\d{10}$")


def _word(value: str) -> str:
    return " ".join(value.upper().split())


def sex(value: str) -> str:
    return SEXES.get(_word(value), value)


def birth_date(value: str) -> str:
    """DD-MM-YYYY and DD/MM/YYYY as YYYY-MM-DD; anything else as it came."""
    found = _DAY_FIRST.match(value)
    if found is None:
        return value
    day, month, year = found.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def village_code(value: str) -> str:
    """Ten digits without dots (``6302062001``) as Kemendagri writes them (``63.02.06.2001``)."""
    if _UNDOTTED_VILLAGE.match(value):
        return f"{value[:2]}.{value[2:4]}.{value[4:6]}.{value[6:]}"
    return value


def employment_status(value: str) -> str:
    return EMPLOYMENT.get(_word(value), value)


def education_level(value: str) -> str:
    return EDUCATION.get(_word(value), value)


def digits(value: str) -> str:
    """A NIK or family card number as spreadsheets keep them: a leading apostrophe (Excel's
    mark of text) dropped."""
    return value[1:] if value.startswith("'") else value


NORMALISERS = {
    "nik": digits,
    "family_card_number": digits,
    "sex": sex,
    "birth_date": birth_date,
    "village_code": village_code,
    "employment_status": employment_status,
    "education_level": education_level,
}


def normalised(fields: list[str], cells: list[str]) -> list[str]:
    """A row's cells with each value in Sinergi's words where it is recognised."""
    return [
        NORMALISERS[name](cell) if cell and name in NORMALISERS else cell
        for name, cell in zip(fields, cells, strict=False)
    ] + cells[len(fields) :]
