"""Problem messages in the caller's language: a catalogue of translations of English messages,
chosen by ``Accept-Language``. English is the default and the source language; a message with
no translation is served as it is.

A catalogue entry is an English message, exact or with ``{placeholders}``; a placeholder
matches any text, which is itself translated when the catalogue knows it (so the message of
``"Value error, {message}"`` is translated too). The kit holds the translations of its own
messages; a programme adds its own with :func:`add_translations`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# "body.nik: must be ..." as UnprocessableEntity writes its detail: a location, then a message.
_LOCATED = re.compile(r"^(?P<loc>[\w.\-\[\]]+): (?P<message>.+)$", re.DOTALL)


@dataclass
class Catalogue:
    exact: dict[str, dict[str, str]] = field(default_factory=dict)
    patterns: dict[str, list[tuple[re.Pattern[str], str]]] = field(default_factory=dict)
    _templates: dict[str, dict[str, str]] = field(default_factory=dict)

    def add(self, language: str, messages: Mapping[str, str]) -> None:
        """Idempotent: adding the same messages again (each app factory does) changes nothing."""
        exact = self.exact.setdefault(language, {})
        templates = self._templates.setdefault(language, {})
        for english, translated in messages.items():
            if _PLACEHOLDER.search(english):
                templates[english] = translated
            else:
                exact[english] = translated
        # The most specific (longest literal text) pattern first.
        ordered = sorted(templates, key=lambda english: -len(_PLACEHOLDER.sub("", english)))
        self.patterns[language] = [(_compile(english), templates[english]) for english in ordered]

    def translate(self, message: str, language: str, *, depth: int = 0) -> str:
        if language == DEFAULT_LANGUAGE or language not in self.exact or depth > 3:
            return message
        found = self.exact[language].get(message)
        if found is not None:
            return found
        for pattern, translated in self.patterns[language]:
            matched = pattern.match(message)
            if matched:
                values = {
                    name: self.translate(value, language, depth=depth + 1)
                    for name, value in matched.groupdict().items()
                }
                return translated.format(**values)
        located = _LOCATED.match(message)
        if located:
            inner = self.translate(located["message"], language, depth=depth + 1)
            return f"{located['loc']}: {inner}"
        return message

    def languages(self) -> frozenset[str]:
        return frozenset({DEFAULT_LANGUAGE, *self.exact})


def _compile(english: str) -> re.Pattern[str]:
    parts: list[str] = []
    position = 0
    for placeholder in _PLACEHOLDER.finditer(english):
        parts.append(re.escape(english[position : placeholder.start()]))
        parts.append(f"(?P<{placeholder.group(1)}>.+?)")
        position = placeholder.end()
    parts.append(re.escape(english[position:]))
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


def preferred_language(header: str | None, available: frozenset[str]) -> str:
    """The language of ``Accept-Language`` (RFC 9110: q-values, ``id-ID`` counts as ``id``)
    that the catalogue has, the highest q first; English when none is."""
    if not header:
        return DEFAULT_LANGUAGE
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Earlier entries win ties, as clients list their preference first.
        q -= position * 1e-6
        if language in available and q > best_q:
            best, best_q = language, q
    return best


CATALOGUE = Catalogue()


def add_translations(language: str, messages: Mapping[str, str]) -> None:
    CATALOGUE.add(language, messages)


# The kit's own messages (problems.py, pagination, app) and pydantic's most common ones.
KIT_MESSAGES_ID: dict[str, str] = {
    # Titles.
    "Bad request": "Permintaan tidak valid",
    "Not authenticated": "Belum terautentikasi",
    "Forbidden": "Akses ditolak",
    "Not found": "Tidak ditemukan",
    "Conflict": "Konflik",
    "Precondition failed": "Prasyarat tidak terpenuhi",
    "Precondition required": "Prasyarat diperlukan",
    "Payload too large": "Isi permintaan terlalu besar",
    "Request validation error.": "Kesalahan validasi permintaan.",
    "Too many requests": "Terlalu banyak permintaan",
    "Service unavailable": "Layanan tidak tersedia",
    "Gateway timeout": "Waktu tunggu gateway habis",
    "Internal server error": "Kesalahan server internal",
    "Method Not Allowed": "Metode tidak diizinkan",
    "Ambiguous path": "Jalur ambigu",
    # Details.
    "invalid or missing: {fields}": "tidak valid atau tidak ada: {fields}",
    "the database is unavailable; retry shortly": (
        "basis data tidak tersedia; coba lagi sebentar lagi"
    ),
    "a value cannot be stored: out of range or containing a NUL byte": (
        "sebuah nilai tidak dapat disimpan: di luar jangkauan atau berisi byte NUL"
    ),
    "an unexpected error occurred; it was logged with the request id": (
        "terjadi kesalahan tak terduga; sudah dicatat bersama ID permintaan"
    ),
    "not a cursor this endpoint issued": "bukan kursor yang diterbitkan endpoint ini",
    "a bearer token is required": "token bearer diperlukan",
    "malformed token": "token rusak",
    "token expired": "token sudah kedaluwarsa",
    "unknown signing key": "kunci penanda tangan tidak dikenal",
    "the organisation is deactivated": "organisasi sudah dinonaktifkan",
    "the {service} service is unavailable": "layanan {service} tidak tersedia",
    "the {service} service did not answer in time": "layanan {service} tidak menjawab tepat waktu",
    "this action needs the scope {scope}": "tindakan ini memerlukan cakupan {scope}",
    # pydantic.
    "Field required": "Wajib diisi",
    "Value error, {message}": "{message}",
    "Extra inputs are not permitted": "Isian tambahan tidak diizinkan",
    "String should have at least {count} characters": (
        "Teks harus berisi paling sedikit {count} karakter"
    ),
    "String should have at least {count} character": (
        "Teks harus berisi paling sedikit {count} karakter"
    ),
    "String should have at most {count} characters": (
        "Teks harus berisi paling banyak {count} karakter"
    ),
    "String should match pattern '{pattern}'": "Teks harus sesuai pola '{pattern}'",
    "Input should be a valid string": "Harus berupa teks",
    "Input should be a valid integer": "Harus berupa bilangan bulat",
    "Input should be a valid integer, unable to parse string as an integer": (
        "Harus berupa bilangan bulat"
    ),
    "Input should be a valid boolean": "Harus berupa nilai benar atau salah",
    "Input should be a valid date": "Harus berupa tanggal yang valid",
    "Input should be a valid date or datetime, {reason}": (
        "Harus berupa tanggal yang valid (YYYY-MM-DD)"
    ),
    "Input should be a valid list": "Harus berupa daftar",
    "Input should be a valid dictionary or object to extract fields from": (
        "Harus berupa objek JSON"
    ),
    "Input should be greater than or equal to {limit}": (
        "Harus lebih besar dari atau sama dengan {limit}"
    ),
    "Input should be less than or equal to {limit}": (
        "Harus lebih kecil dari atau sama dengan {limit}"
    ),
    "Input should be greater than {limit}": "Harus lebih besar dari {limit}",
    "Input should be less than {limit}": "Harus lebih kecil dari {limit}",
    "Input should be {expected}": "Harus {expected}",
    "JSON decode error": "JSON tidak dapat dibaca",
}
add_translations("id", KIT_MESSAGES_ID)
