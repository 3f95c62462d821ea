"""Pure rules of notifications: filling a template, reading a resident's reply, the webhook
signature and the retry schedule. No I/O: the templates come in as data."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

SIGNATURE_HEADER = "X-Sinergi-Signature"
SIGNATURE_PREFIX = "sha256="
# Offer codes: no 0/O or 1/I, which read alike on a phone's screen.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
SMS_LENGTH = 160

Templates = Mapping[str, Any]


def render(templates: Templates, name: str, language: str, values: Mapping[str, Any]) -> str:
    """The template's text in ``language`` (English when it has none), its placeholders filled;
    ``kind`` and ``status`` are named in the language's own words."""
    texts = templates[name]
    language = language if language in texts else "en"
    words = dict(values)
    if "kind" in words:
        words["kind"] = templates["kinds"][language].get(words["kind"], words["kind"])
    if "status" in words:
        words["status"] = templates["statuses"][language].get(words["status"], words["status"])
    if isinstance(words.get("date"), date):
        words["date"] = format_date(words["date"])
    text: str = texts[language].format(**words)
    return text


def format_date(value: date) -> str:
    """Day-month-year, as dates are written in Indonesia (03-12-2026)."""
    return value.strftime("%d-%m-%Y")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


@dataclass(frozen=True)
class Reply:
    kind: Literal["accept", "decline", "complaint", "unknown"]
    argument: str = ""


_COMMAND = re.compile(r"^\s*(YA|TIDAK|ADUAN)\b[\s:.,-]*(.*)$", re.IGNORECASE | re.DOTALL)


def parse_reply(text: str) -> Reply:
    """``YA <code>``, ``TIDAK <code>`` (any case, the code as sent) or ``ADUAN <text>``."""
    found = _COMMAND.match(text)
    if not found:
        return Reply("unknown")
    command, rest = found.group(1).upper(), found.group(2).strip()
    if command == "ADUAN":
        return Reply("complaint", rest) if rest else Reply("unknown")
    code = rest.split()[0].upper() if rest else ""
    if not code:
        return Reply("unknown")
    return Reply("accept" if command == "YA" else "decline", code)


def sign(secret: str, body: bytes) -> str:
    """``X-Sinergi-Signature``'s value: HMAC-SHA256 of the exact body, hex, prefixed."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    return hmac.compare_digest(sign(secret, body), header.strip())


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """The wait before attempt ``attempts + 1``: doubling from ``base``, at most ``cap``."""
    return float(min(cap, base * (2 ** max(0, attempts - 1))))
