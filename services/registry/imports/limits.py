"""The bounds of reading an upload, from the registry's ``REGISTRY_IMPORT_*`` settings."""

from __future__ import annotations

from services.registry.imports.parsing import Bounds, Isolation
from services.registry.imports.rows import COLUMNS
from services.registry.settings import RegistrySettings


def import_limits(settings: RegistrySettings) -> tuple[Bounds, Isolation]:
    shared_strings = settings.import_max_shared_strings
    if shared_strings is None:
        shared_strings = (settings.import_max_rows + 1) * len(COLUMNS)
    bounds = Bounds(
        max_rows=settings.import_max_rows,
        max_uncompressed=settings.import_max_xlsx_uncompressed_bytes,
        max_shared_strings=shared_strings,
    )
    isolation = Isolation(
        memory_bytes=settings.import_reader_memory_bytes, seconds=settings.import_reader_seconds
    )
    return bounds, isolation
