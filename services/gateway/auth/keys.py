"""The gateway's signing key and the public keys it publishes.

Development generates an RSA key into ``<data dir>/keys/`` on first start; production reads it
from ``GATEWAY_SIGNING_KEY_FILE``. Public keys of earlier signing keys
(``GATEWAY_VERIFICATION_KEY_FILES``) stay in the JWKS, so tokens signed before a rotation are
accepted until they expire.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.gateway.settings import GatewaySettings
from shared.kit.tokens import (
    TokenVerifier,
    generate_private_key_pem,
    key_id,
    public_jwk,
    public_key_pem,
)

GENERATED_KEY_NAME = "signing-key.pem"


@dataclass
class KeyRing:
    private_pem: str
    kid: str
    public_pems: dict[str, str] = field(default_factory=dict)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(pem, kid) for kid, pem in self.public_pems.items()]}

    def verifier(self, settings: GatewaySettings) -> TokenVerifier:
        verifier = TokenVerifier(issuer=settings.token_issuer, audience=settings.token_audience)
        for kid, pem in self.public_pems.items():
            verifier.add_public_key(pem, kid)
        return verifier


def _generated_key(settings: GatewaySettings) -> str:
    path = settings.data_dir / "keys" / GENERATED_KEY_NAME
    if path.exists():
        return path.read_text()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = generate_private_key_pem()
    # Written owner-only, and atomically, so a second worker never reads half a key.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_text()


def load_key_ring(settings: GatewaySettings) -> KeyRing:
    if settings.signing_key_file:
        private_pem = Path(settings.signing_key_file).read_text()
    else:
        private_pem = _generated_key(settings)
    public_pem = public_key_pem(private_pem)
    kid = key_id(public_pem)
    ring = KeyRing(private_pem=private_pem, kid=kid, public_pems={kid: public_pem})
    for path in settings.verification_key_paths():
        pem = path.read_text()
        ring.public_pems.setdefault(key_id(pem), pem)
    return ring
