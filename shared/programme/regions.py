"""Region codes of Kemendagri (province 63, regency 63.02, district 63.02.06, village
63.02.06.2009), from the reference list shipped in ``shared/programme/reference/wilayah.csv``."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).parent / "reference"
LEVELS = ("province", "regency", "district", "village")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    level: str

    @property
    def parent_code(self) -> str | None:
        return parent_code(self.code)


def parent_code(code: str) -> str | None:
    head, sep, _ = code.rpartition(".")
    return head if sep else None


def level_of(code: str) -> str | None:
    parts = code.split(".")
    return LEVELS[len(parts) - 1] if 1 <= len(parts) <= 4 else None


def district_of(code: str) -> str | None:
    """The district (kecamatan) that a district or village code lies in."""
    parts = code.split(".")
    return ".".join(parts[:3]) if len(parts) >= 3 else None


def regency_of(code: str) -> str | None:
    parts = code.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def province_of(code: str) -> str:
    return code.split(".")[0]


def within(code: str, area: str) -> bool:
    """True when ``code`` is ``area`` itself or lies inside it (``63.02.06.2009`` in ``63.02``)."""
    return code == area or code.startswith(area + ".")


@cache
def regions() -> dict[str, Region]:
    with (REFERENCE_DIR / "wilayah.csv").open(encoding="utf-8", newline="") as handle:
        return {
            row["code"]: Region(row["code"], row["name"], row["level"])
            for row in csv.DictReader(handle)
        }


@cache
def children() -> dict[str | None, list[Region]]:
    index: dict[str | None, list[Region]] = {}
    for region in regions().values():
        index.setdefault(region.parent_code, []).append(region)
    return index


def get_region(code: str) -> Region | None:
    return regions().get(code)


def is_known(code: str, level: str | None = None) -> bool:
    region = regions().get(code)
    return region is not None and (level is None or region.level == level)


@cache
def province_codes() -> frozenset[str]:
    return frozenset(r.code for r in regions().values() if r.level == "province")


def children_of(code: str | None) -> list[Region]:
    return children().get(code, [])
