"""A small client of the gateway for the seed, the demo and the end-to-end tests.

Every call names the organisation that makes it (its own client credentials, its own token)
and the status codes it expects; any other answer raises :class:`UnexpectedAnswer` with the
method, path, status and the problem's ``detail``, never the request body (it may carry a NIK).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from shared.kit.http import CachedToken

DEFAULT_GATEWAY = "http://127.0.0.1:8000"
T = TypeVar("T")


def gateway_url() -> str:
    return os.environ.get("SINERGI_GATEWAY_URL", DEFAULT_GATEWAY).rstrip("/")


class UnexpectedAnswer(RuntimeError):
    """The stack answered something the caller did not expect."""

    def __init__(self, response: httpx.Response, expected: Collection[int], who: str) -> None:
        self.response = response
        self.status_code = response.status_code
        detail = problem_detail(response)
        request = response.request
        super().__init__(
            f"{who}: {request.method} {request.url.path} answered {response.status_code}, "
            f"expected {' or '.join(map(str, sorted(expected)))}"
            + (f": {detail}" if detail else "")
        )


class NotReady(RuntimeError):
    """The gateway (or a service behind it) did not become ready in time."""


def problem_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        detail = str(body.get("detail") or body.get("error_description") or body.get("error") or "")
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            fields = ", ".join(".".join(map(str, e.get("loc", []))) for e in errors[:3])
            detail = f"{detail} [{fields}]" if detail else fields
        return detail
    return ""


@dataclass(frozen=True, slots=True)
class Credential:
    """Client credentials of an organisation, or (``staff=True``) a staff user's username and
    password for the password grant."""

    client_id: str
    client_secret: str
    staff: bool = False

    def token_request(self) -> dict[str, Any]:
        if self.staff:
            form = {"grant_type": "password", "username": self.client_id}
            return {"data": form | {"password": self.client_secret}}
        return {
            "data": {"grant_type": "client_credentials"},
            "auth": (self.client_id, self.client_secret),
        }


class Gateway:
    """One pooled HTTP connection to the gateway, shared by every organisation's client."""

    def __init__(self, base_url: str | None = None, *, timeout: float = 60.0) -> None:
        self.base_url = (base_url or gateway_url()).rstrip("/")
        self.http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def ready(self) -> bool:
        try:
            return self.http.get("/readyz", timeout=10).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float, *, on_wait: Callable[[float], None] | None = None) -> None:
        """Poll ``/readyz`` (gateway, its database and the four services) until it is 200."""
        deadline = time.monotonic() + timeout
        next_notice = time.monotonic() + 10
        while not self.ready():
            now = time.monotonic()
            if now > deadline:
                raise NotReady(f"{self.base_url}/readyz did not answer 200 within {timeout:.0f} s")
            if on_wait and now > next_notice:
                on_wait(deadline - now)
                next_notice = now + 10
            time.sleep(0.5)

    def client(self, credential: Credential, who: str) -> OrgClient:
        return OrgClient(self, credential, who)


class OrgClient:
    """Calls of one organisation: a token by client credentials, renewed before it expires."""

    def __init__(self, gateway: Gateway, credential: Credential, who: str) -> None:
        self.gateway = gateway
        self.credential = credential
        self.who = who
        self._cached = CachedToken()
        self._lock = threading.Lock()
        self.claims: dict[str, Any] = {}

    def token(self) -> str:
        with self._lock:
            token = self._cached.fresh()
            if token is None:
                response = self.gateway.http.post(
                    "/v1/auth/token", **self.credential.token_request()
                )
                if response.status_code != 200:
                    raise UnexpectedAnswer(response, {200}, self.who)
                token = self._cached.keep(response.json())
            return token

    def request(
        self,
        method: str,
        path: str,
        *,
        expect: int | Collection[int] = (200,),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        expected = {expect} if isinstance(expect, int) else set(expect)
        all_headers = {"Authorization": f"Bearer {self.token()}", **(headers or {})}
        response = self.gateway.http.request(method, path, headers=all_headers, **kwargs)
        if response.status_code not in expected:
            raise UnexpectedAnswer(response, expected, self.who)
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs).json()

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs).json()

    def pages(
        self, path: str, *, params: dict[str, Any] | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        """Every item of a cursor-paginated list."""
        query = {"limit": 500, **(params or {})}
        while True:
            page = self.get(path, params=query, **kwargs)
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]


def poll(
    what: str,
    probe: Callable[[], T | None],
    *,
    timeout: float = 60.0,
    interval: float = 0.5,
) -> T:
    """``probe()`` until it returns something other than None; a bounded wait, never a sleep
    that hopes."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not reached within {timeout:.0f} s")
        time.sleep(interval)
