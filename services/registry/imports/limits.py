"""The bounds of reading an upload: shared strings, the reader's memory and time.

These belong with the registry's other ``REGISTRY_IMPORT_*`` settings; until
``RegistrySettings`` declares them (``ImportLimits`` lists them with their defaults), they are
read from the same environment variables, and a ``RegistrySettings`` that has them wins.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.registry.imports.parsing import Bounds, Isolation
from services.registry.imports.rows import COLUMNS
from services.registry.settings import RegistrySettings


class ImportLimits(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="REGISTRY_", extra="ignore", env_file=None)

    # Unique strings an XLSX may hold. None: as many as the row limit's cells (a sheet of
    # import_max_rows rows of our columns cannot need more), so the cap follows the row limit.
    import_max_shared_strings: int | None = Field(default=None, ge=0)
    # The reader's child process: its address space (RLIMIT_AS, counting the interpreter,
    # about 150 MB, and the file) and its time; a file that needs more fails its job.
    import_reader_memory_bytes: int = Field(default=1024 * 1024 * 1024, ge=64 * 1024 * 1024)
    import_reader_seconds: float = Field(default=120.0, gt=0)


def import_limits(settings: RegistrySettings) -> tuple[Bounds, Isolation]:
    given = {
        name: getattr(settings, name)
        for name in ImportLimits.model_fields
        if name in type(settings).model_fields
    }
    limits = ImportLimits(**given)
    shared_strings = limits.import_max_shared_strings
    if shared_strings is None:
        shared_strings = (settings.import_max_rows + 1) * len(COLUMNS)
    bounds = Bounds(
        max_rows=settings.import_max_rows,
        max_uncompressed=settings.import_max_xlsx_uncompressed_bytes,
        max_shared_strings=shared_strings,
    )
    isolation = Isolation(
        memory_bytes=limits.import_reader_memory_bytes, seconds=limits.import_reader_seconds
    )
    return bounds, isolation
