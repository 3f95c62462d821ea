"""The paths the deployment files ask of the services are routes of the real apps, and answer:
the probes of Kubernetes, the image's health check, and the JWKS URL every service verifies
tokens with. Each app is built by its own factory on a fresh migrated database."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI

from tests.deploy.support import (
    K8S,
    SERVICES,
    default_port,
    load_compose,
    render,
    route_paths,
)

PRODUCTION = render(K8S / "overlays" / "production")


def container(service: str) -> dict[str, Any]:
    for document in PRODUCTION:
        if document["kind"] == "Deployment" and document["metadata"]["name"] == service:
            found: dict[str, Any] = document["spec"]["template"]["spec"]["containers"][0]
            return found
    raise AssertionError(service)


@pytest.mark.anyio
async def test_probe_health_check_and_jwks_paths_are_the_apps_routes(
    apps: dict[str, FastAPI],
) -> None:
    assert sorted(apps) == SERVICES
    routes = {service: route_paths(app) for service, app in apps.items()}
    compose = load_compose()["services"]
    jwks_urls: list[str] = []
    for service, app in apps.items():
        spec = container(service)
        probes = {
            kind: spec[kind]["httpGet"]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert {probe["port"] for probe in probes.values()} == {"http"}
        assert probes["startupProbe"]["path"] == probes["livenessProbe"]["path"] == "/healthz"
        # Readiness checks the database and the migration: traffic only to a ready pod. Not the
        # gateway's: its /readyz waits on all four services (deploy/k8s/base/gateway.yaml).
        assert probes["readinessProbe"]["path"] == (
            "/healthz" if service == "gateway" else "/readyz"
        )
        assert spec["readinessProbe"]["timeoutSeconds"] >= 5  # /readyz waits up to 4 s
        for probe in probes.values():
            assert probe["path"] in routes[service], (service, probe["path"])

        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            live = await client.get("/healthz")  # also the image's HEALTHCHECK
            ready = await client.get("/readyz")
        assert live.status_code == 200, service
        if service == "gateway":
            # Its readiness also names the four services, which are not running here.
            assert ready.status_code in (200, 503), ready.text
        else:
            assert ready.status_code == 200, (service, ready.text)
            assert ready.json()["database"]["ok"] is True

        jwks_urls += [v["value"] for v in spec["env"] if v["name"].endswith("_JWKS_URL")]
        jwks_urls += [
            v for k, v in compose[service]["environment"].items() if k.endswith("_JWKS_URL")
        ]

    assert len(jwks_urls) == 2 * (len(SERVICES) - 1)  # every service but the gateway, twice
    for url in jwks_urls:
        parts = urlsplit(url)
        assert (parts.hostname, parts.port) == ("gateway", default_port("gateway"))
        assert parts.path in routes["gateway"], url
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=apps["gateway"]), base_url="http://test"
    ) as client:
        jwks = await client.get(urlsplit(jwks_urls[0]).path)
    assert jwks.status_code == 200
    assert jwks.json()["keys"]
