"""Signing and verifying access tokens: the one module that touches python-jose.

RFC 8725 in practice: RS256 only, from an explicit list (never the token's own ``alg``, which
is how CVE-2024-33663 confused algorithms); ``exp``, ``iat``, ``aud`` and ``iss`` required;
keys chosen by ``kid`` from the gateway's JWKS (refreshed, at a bounded rate, when an unknown
``kid`` appears) or from a configured public key; tokens over 8 KiB refused before parsing.
A token already verified is found again by its hash, so the RSA check runs once per token.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from jose.exceptions import ExpiredSignatureError, JOSEError, JWTClaimsError

ALGORITHM = "RS256"
ALGORITHMS = [ALGORITHM]
MAX_TOKEN_BYTES = 8 * 1024
# An attacker who sends random kids must not make us fetch the JWKS on every request.
JWKS_MIN_REFRESH_SECONDS = 10.0


class InvalidToken(Exception):
    """The token is not acceptable; the message says why, without echoing the token."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an organisation, and a staff user of it when one logged in."""

    subject: str
    org_id: str
    org_type: str
    region: str | None
    scopes: frozenset[str]
    user_id: str | None = None
    token_id: str | None = None
    expires_at: float = 0.0

    def has(self, *scopes: str) -> bool:
        return all(scope in self.scopes for scope in scopes)

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Principal:
        for name in ("sub", "org", "org_type"):
            if not isinstance(claims.get(name), str) or not claims[name]:
                raise InvalidToken(f"claim {name!r} missing")
        subject = claims["sub"]
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise InvalidToken("claim 'scope' must be a space-separated string")
        region = claims.get("region")
        return cls(
            subject=subject,
            org_id=claims["org"],
            org_type=claims["org_type"],
            region=region if isinstance(region, str) and region else None,
            scopes=frozenset(scope.split()),
            user_id=subject.removeprefix("user:") if subject.startswith("user:") else None,
            token_id=claims.get("jti"),
            expires_at=float(claims.get("exp", 0)),
        )


def generate_private_key_pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_key_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_id(public_pem: str) -> str:
    """A stable ``kid``: a digest of the public key."""
    return hashlib.sha256(public_pem.encode()).hexdigest()[:16]


def public_jwk(public_pem: str, kid: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = jwk.construct(public_pem, ALGORITHM).to_dict()
    data.update(kid=kid or key_id(public_pem), use="sig", alg=ALGORITHM)
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in data.items()}


def sign(claims: Mapping[str, Any], private_pem: str, kid: str) -> str:
    return jwt.encode(dict(claims), private_pem, algorithm=ALGORITHM, headers={"kid": kid})


def issue_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    org_id: str,
    org_type: str,
    region: str | None,
    scopes: Iterable[str],
    lifetime_seconds: int,
    now: float | None = None,
) -> dict[str, Any]:
    issued = int(now if now is not None else time.time())
    return {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "org": org_id,
        "org_type": org_type,
        "region": region,
        "scope": " ".join(sorted(scopes)),
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime_seconds,
        "jti": uuid.uuid4().hex,
    }


JwksFetcher = Callable[[], Awaitable[Mapping[str, Any]]]


@dataclass
class TokenVerifier:
    """Verifies tokens for one audience and issuer against a set of public keys."""

    issuer: str
    audience: str
    keys: dict[str, Any] = field(default_factory=dict)
    jwks_fetcher: JwksFetcher | None = None
    cache_size: int = 10_000
    leeway_seconds: int = 0
    _cache: OrderedDict[str, Principal] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _last_refresh: float = field(default=0.0, repr=False)

    def add_public_key(self, public_pem: str, kid: str | None = None) -> str:
        kid = kid or key_id(public_pem)
        self.keys[kid] = public_pem
        return kid

    def load_jwks(self, document: Mapping[str, Any]) -> None:
        for entry in document.get("keys", []):
            if entry.get("kty") == "RSA" and entry.get("kid"):
                self.keys[entry["kid"]] = dict(entry)

    async def refresh(self, *, force: bool = False) -> bool:
        if self.jwks_fetcher is None:
            return False
        now = time.monotonic()
        if not force and now - self._last_refresh < JWKS_MIN_REFRESH_SECONDS:
            return False
        self._last_refresh = now
        try:
            self.load_jwks(await self.jwks_fetcher())
        except Exception:  # noqa: BLE001 - an unreachable JWKS means "unknown kid", not a 500
            return False
        return True

    def _cached(self, digest: str) -> Principal | None:
        with self._lock:
            principal = self._cache.get(digest)
            if principal is None:
                return None
            if principal.expires_at <= time.time():
                del self._cache[digest]
                return None
            self._cache.move_to_end(digest)
            return principal

    def _remember(self, digest: str, principal: Principal) -> None:
        with self._lock:
            self._cache[digest] = principal
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def forget(self, predicate: Callable[[Principal], bool]) -> None:
        """Drop cached principals, e.g. those of a deactivated organisation."""
        with self._lock:
            for digest in [d for d, p in self._cache.items() if predicate(p)]:
                del self._cache[digest]

    async def verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("token too large")
        digest = hashlib.sha256(token.encode()).hexdigest()
        cached = self._cached(digest)
        if cached is not None:
            return cached
        try:
            header = jwt.get_unverified_header(token)
        except JOSEError as exc:
            raise InvalidToken("malformed token") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"algorithm {header.get('alg')!r} not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("token has no key id")
        if kid not in self.keys:
            await self.refresh()
        key = self.keys.get(kid)
        if key is None:
            raise InvalidToken("unknown signing key")
        principal = Principal.from_claims(self._decode(token, key))
        self._remember(digest, principal)
        return principal

    def _decode(self, token: str, key: Any) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_aud": True,
                    "require_iss": True,
                    "require_sub": True,
                    "verify_nbf": True,
                    "leeway": self.leeway_seconds,
                },
            )
        except ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except JWTClaimsError as exc:
            raise InvalidToken(f"token claims rejected: {exc}") from exc
        except JOSEError as exc:
            raise InvalidToken("token signature or format invalid") from exc
        return claims
