"""One OpenAPI document for the whole API: the gateway's own paths plus each service's,
fetched from its ``/openapi.json`` and cached briefly.

Schemas of the same name are merged when equal; a different schema under a taken name is
renamed ``<service>_<name>`` and that service's ``$ref``s are rewritten, so nothing is
clobbered.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any

import anyio
import httpx

logger = logging.getLogger("sinergi.gateway.openapi")

# Internal paths the gateway does not expose (or answers itself).
HIDDEN_PATHS = frozenset({"/healthz", "/readyz", "/v1/changes"})
REF_PREFIX = "#/components/schemas/"


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX):
                name = value.removeprefix(REF_PREFIX)
                out[key] = REF_PREFIX + renames.get(name, name)
            else:
                out[key] = _rewrite_refs(value, renames)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def merge_documents(base: dict[str, Any], others: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``base`` (the gateway's document) with the paths and components of ``others``
    (service name -> document) merged in, hidden paths left out."""
    merged = copy.deepcopy(base)
    merged["paths"] = {p: v for p, v in merged.get("paths", {}).items() if p not in HIDDEN_PATHS}
    components = merged.setdefault("components", {})
    for service, document in others.items():
        their_components = document.get("components", {})
        schemas = components.setdefault("schemas", {})
        renames: dict[str, str] = {}
        for name, schema in their_components.get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                renames[name] = f"{service}_{name}"
        document = _rewrite_refs(document, renames)
        if renames:
            their_schemas = document["components"]["schemas"]
            document["components"]["schemas"] = {
                renames.get(name, name): schema for name, schema in their_schemas.items()
            }
        for kind, entries in document.get("components", {}).items():
            target = components.setdefault(kind, {})
            for name, entry in entries.items():
                if name not in target:
                    target[name] = entry
                elif target[name] != entry:
                    # Only schemas are renamed; another clash keeps the first and is logged.
                    logger.warning("openapi component clash", extra={"component": name})
        for path, item in document.get("paths", {}).items():
            if path in HIDDEN_PATHS:
                continue
            if path in merged["paths"]:
                logger.warning("openapi path served twice", extra={"path": path})
                continue
            merged["paths"][path] = item
        tags = {t["name"] for t in merged.get("tags", [])}
        for tag in document.get("tags", []):
            if tag.get("name") not in tags:
                merged.setdefault("tags", []).append(tag)
    return merged


class MergedOpenAPI:
    def __init__(self, clients: dict[str, httpx.AsyncClient], cache_seconds: float) -> None:
        self.clients = clients
        self.cache_seconds = cache_seconds
        self._cached: tuple[float, dict[str, Any]] | None = None
        self._lock = anyio.Lock()

    async def _fetch(self, name: str, client: httpx.AsyncClient, into: dict[str, Any]) -> None:
        try:
            response = await client.get("/openapi.json")
            response.raise_for_status()
            into[name] = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning("openapi fetch failed", extra={"service": name, "error": str(exc)})

    async def document(self, base: dict[str, Any]) -> dict[str, Any]:
        async with self._lock:
            now = time.monotonic()
            if self._cached is not None and now - self._cached[0] < self.cache_seconds:
                return self._cached[1]
            fetched: dict[str, Any] = {}
            async with anyio.create_task_group() as group:
                for name, client in self.clients.items():
                    group.start_soon(self._fetch, name, client, fetched)
            ordered = {name: fetched[name] for name in self.clients if name in fetched}
            merged = merge_documents(base, ordered)
            missing = [name for name in self.clients if name not in fetched]
            if missing:
                merged.setdefault("info", {})["x-unavailable-services"] = missing
            # A partial document is not kept: the next request tries the missing ones again.
            self._cached = (now, merged) if not missing else None
            return merged
