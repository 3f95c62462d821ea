"""The API docs render in a real browser with no internet: the five services run as real
processes (tests/e2e/stack.py), headless Chromium (Debian's ``chromium``) opens ``/docs`` and
``/redoc`` with every host name but 127.0.0.1 unresolvable, lets the pages' JavaScript run,
and the DOM it dumps holds the operations. A page that loaded Swagger UI or ReDoc from a CDN
would stay blank here, as it does on a government intranet.

The pages read no database, so the stack runs on SQLite alone.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.stack import SERVICES, Stack
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def stack(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("docs-stack"), lambda service: databases.new("sqlite", service)
    )
    running.start()
    try:
        yield running
    finally:
        running.stop()


def rendered_dom(url: str, profile: Path) -> str:
    """The DOM after the page's scripts ran, as headless Chromium dumps it. No name resolves
    but 127.0.0.1's, so nothing outside this machine can be fetched."""
    assert CHROMIUM, "chromium is missing: apt-get install chromium (.ci/run installs it)"
    completed = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return html.unescape(completed.stdout)


def external_references(page: str) -> list[str]:
    """Every script, stylesheet or image the HTML asks for outside the app itself."""
    return [
        ref
        for ref in re.findall(r"""(?:src|href|url)\s*[=:(]\s*['"]([^'"]+)['"]""", page)
        if re.match(r"(?:https?:)?//", ref)
    ]


def test_gateway_swagger_ui_renders_every_services_operations_offline(
    stack: Stack, tmp_path: Path
) -> None:
    page = httpx.get(stack.gateway_url + "/docs", timeout=10)
    assert page.status_code == 200
    assert external_references(page.text) == []
    dom = rendered_dom(stack.gateway_url + "/docs", tmp_path)
    # Swagger UI built its operation list from the merged /openapi.json: the registry's
    # operation arrives through the gateway, beside the gateway's own.
    assert "swagger-ui" in dom
    assert "Register a resident" in dom
    assert "/v1/auth/token" in dom


def test_gateway_redoc_renders_offline(stack: Stack, tmp_path: Path) -> None:
    page = httpx.get(stack.gateway_url + "/redoc", timeout=10)
    assert page.status_code == 200
    assert external_references(page.text) == []
    assert "fonts.googleapis.com" not in page.text
    dom = rendered_dom(stack.gateway_url + "/redoc", tmp_path)
    assert "Register a resident" in dom


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "gateway"])
def test_each_services_own_docs_render_offline(stack: Stack, service: str, tmp_path: Path) -> None:
    base = stack.url(service)
    document = httpx.get(base + "/openapi.json", timeout=10).json()
    summaries = [
        operation["summary"]
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and operation.get("summary")
    ]
    assert summaries, f"{service} documents no operation"
    page = httpx.get(base + "/docs", timeout=10)
    assert page.status_code == 200
    assert external_references(page.text) == []
    dom = rendered_dom(base + "/docs", tmp_path)
    assert document["info"]["title"] in dom
    assert summaries[0] in dom


def test_only_the_pages_assets_are_served(stack: Stack) -> None:
    assets = stack.gateway_url + "/docs/assets/"
    script = httpx.get(assets + "swagger-ui-bundle.js", timeout=10)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert httpx.get(assets + "redoc.standalone.js", timeout=10).status_code == 200
    # The package's folder is not browsable: only the named files are (a path that climbs
    # out is refused before routing, by the gateway's one reading of every path).
    for name, status in (("core.py", 404), ("missing.js", 404), ("..%2Fcore.py", 400)):
        missing = httpx.get(assets + name, timeout=10)
        assert missing.status_code == status, name
        assert missing.headers["content-type"].startswith("application/problem+json")
