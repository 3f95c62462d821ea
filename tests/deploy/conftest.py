"""Apps built by their real factories on fresh migrated databases, for their routes."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from shared.kit.tokens import generate_private_key_pem
from tests.deploy.support import SERVICES, settings_class
from tests.support.databases import DatabaseFactory
from tests.support.tokens import TestKeys


def build_app(
    service: str,
    url: str,
    keys: TestKeys,
    workdir: Path,
    *,
    signing_key_file: str = "",
    verification_key_files: str = "",
) -> FastAPI:
    main = importlib.import_module(f"services.{service}.main")
    cls = settings_class(service)
    if service == "gateway":
        if not signing_key_file:
            signing_key_file = str(workdir / "signing-key.pem")
            Path(signing_key_file).write_text(generate_private_key_pem())
        settings = cls(
            database_url=url,
            data_dir=workdir,
            signing_key_file=signing_key_file,
            verification_key_files=verification_key_files,
        )
        app: FastAPI = main.create_app(settings, configure_logs=False)
        return app
    app = main.create_app(cls(database_url=url, jwks_url=""), verifier=keys.verifier())
    return app


@pytest.fixture
def apps(
    backend: str, databases: DatabaseFactory, keys: TestKeys, tmp_path: Path
) -> Iterator[dict[str, FastAPI]]:
    """Every service's app, built by its factory on a fresh migrated database of ``backend``."""
    built: dict[str, FastAPI] = {}
    for service in SERVICES:
        workdir = tmp_path / service
        workdir.mkdir()
        built[service] = build_app(service, databases.new(backend, service), keys, workdir)
    yield built
    for app in built.values():
        app.state.db.dispose()
