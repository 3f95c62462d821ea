"""The gateway: ``uvicorn --factory services.gateway.main:create_app --port 8000``.

Identity (organisations, clients, users, tokens), admission (token, active organisation,
rate limit), routing to the four services, the merged OpenAPI document and system readiness.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.gateway.access.admission import Admission
from services.gateway.access.bruteforce import LoginBrake
from services.gateway.access.ratelimit import OrganisationRateLimit, limit_storage
from services.gateway.access.status import OrganisationStatus
from services.gateway.auth.keys import load_key_ring
from services.gateway.auth.views import router as auth_router
from services.gateway.health.views import router as health_router
from services.gateway.openapi.service import MergedOpenAPI
from services.gateway.openapi.views import router as openapi_router
from services.gateway.organisations.service import bootstrap_clients, use_hasher
from services.gateway.organisations.views import router as organisations_router
from services.gateway.proxy.forwarders import AiohttpForwarder, Forwarder, HttpxForwarder
from services.gateway.proxy.middleware import ProxyMiddleware, Upstream
from services.gateway.proxy.paths import AmbiguousPathMiddleware
from services.gateway.settings import GatewaySettings, get_settings
from shared.kit.app import BodySizeLimitMiddleware, RejectNulBytesMiddleware
from shared.kit.database import Database
from shared.kit.docs import docs_router
from shared.kit.http import service_client
from shared.kit.logging import AccessLogMiddleware, configure_logging
from shared.kit.problems import install_problem_handlers
from shared.programme.messages import install as install_messages

SERVICE_DIR = Path(__file__).parent
# Readiness and OpenAPI fetches are small and must not hang the gateway.
SERVICE_CALL_TIMEOUT_SECONDS = 5.0


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    """The app factory (``uvicorn --factory``). ``transports`` maps a service name
    (registry, opportunities, matching, reporting) to an httpx transport used instead of the
    network for it, e.g. ``httpx.ASGITransport(app=registry_app)`` in tests."""
    settings = settings or get_settings()
    # Problems in Bahasa Indonesia for Accept-Language: id (the programme's messages).
    install_messages()
    settings.check_production()
    if configure_logs:
        configure_logging(settings.service_name, settings.log_level)
    transports = transports or {}

    use_hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)
    db = Database(settings.effective_database_url())
    keys = load_key_ring(settings)
    bootstrap_clients(db, settings)
    verifier = keys.verifier(settings)
    limits_storage = limit_storage(settings.redis_url, settings.redis_key_prefix)
    admission = Admission(
        verifier,
        OrganisationStatus(db, settings.org_status_ttl_seconds),
        OrganisationRateLimit(settings.rate_limit, storage=limits_storage),
    )
    login_brake = LoginBrake(
        limits_storage,
        settings.login_failure_limit,
        settings.login_failure_limit_per_address,
        settings.login_failure_limit_per_address_identity,
    )

    network = AiohttpForwarder(settings.upstream_timeout_seconds, settings.upstream_max_connections)
    forwarders: list[Forwarder] = [network]
    upstreams: dict[str, Upstream] = {}
    clients: dict[str, httpx.AsyncClient] = {}
    for name, url in settings.service_urls().items():
        base_url = url.rstrip("/")
        transport = transports.get(name)
        forwarder: Forwarder = network
        if transport is not None:
            forwarder = HttpxForwarder(transport, settings.upstream_timeout_seconds)
            forwarders.append(forwarder)
        upstreams[name] = Upstream(name, base_url, forwarder)
        clients[name] = service_client(
            base_url,
            transport=transport,
            timeout_seconds=SERVICE_CALL_TIMEOUT_SECONDS,
            connect_retries=0,
        )

    async def aclose() -> None:
        for each in forwarders:
            await each.aclose()
        for client in clients.values():
            await client.aclose()

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await aclose()
            db.dispose()

    app = FastAPI(
        title="Sinergi API",
        description=(
            "Sinergi moves poor residents of productive age in Kabupaten Kotabaru out of "
            "poverty by matching them with jobs, internships, training, business capital and "
            "mentoring. Get a token at POST /v1/auth/token, then call every service here."
        ),
        version="1.0.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.keys = keys
    app.state.verifier = verifier
    app.state.admission = admission
    app.state.login_brake = login_brake
    app.state.service_clients = clients
    app.state.openapi = MergedOpenAPI(clients, settings.openapi_cache_seconds)
    app.state.aclose = aclose
    install_problem_handlers(app)

    app.include_router(health_router)
    app.include_router(openapi_router)
    app.include_router(docs_router(app.title))
    app.include_router(auth_router)
    app.include_router(organisations_router)

    # Outermost last: request id, access log, CORS, then the proxy ahead of FastAPI's routing;
    # the body limit guards the gateway's own routes (services limit their own bodies).
    app.add_middleware(BodySizeLimitMiddleware, default_limit=settings.max_body_bytes, limits={})
    app.add_middleware(ProxyMiddleware, upstreams=upstreams, admission=admission)
    # Before any routing, the gateway's own routes included: one reading of every path.
    app.add_middleware(AmbiguousPathMiddleware)
    app.add_middleware(RejectNulBytesMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    if settings.trusted_proxies:
        # Outermost: the login brake, the access log and X-Forwarded-For sent on all see the
        # caller's address, taken from X-Forwarded-For only when a trusted proxy sent it.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
