"""The regions under a parent, from the reference list shared.programme.regions holds."""

from __future__ import annotations

from services.registry.regions.models import RegionPublic
from shared.kit.problems import NotFound
from shared.programme.regions import children_of, get_region


def list_children(parent: str | None) -> list[RegionPublic]:
    """The regions directly under ``parent`` by code; no parent: the provinces."""
    if parent is not None and get_region(parent) is None:
        raise NotFound(f"no region {parent}")
    return [
        RegionPublic(code=r.code, name=r.name, level=r.level, parent_code=r.parent_code)
        for r in sorted(children_of(parent), key=lambda r: r.code)
    ]
