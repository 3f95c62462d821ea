"""Least privilege, proven by a crawler: acting as a provider, a second provider and a regional
agency, it calls every GET operation of the gateway's merged OpenAPI, with every id it knows or
harvests from earlier answers in every path parameter and required query parameter, and scans
every answer (body and headers, CSV and XLSX included) for the personal data of the seeded
residents: NIK, family card number, name, phone, address.

- the provider may see only the resident disclosed to it (who accepted its placement);
- another provider and a regional agency see nobody's personal data at all.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest

from tests.security.stack import Stack

PERSONAL_FIELDS = ("nik", "family_card_number", "full_name", "phone", "address")
PARAM = re.compile(r"\{([^}]+)\}")
MAX_CANDIDATES = 40
MAX_URLS_PER_OPERATION = 120


@pytest.fixture
def stack(shared_stack: Stack) -> Stack:
    return shared_stack


def _text(response: Any) -> str:
    """Everything a client receives, as text: headers, body, and the sheets of an XLSX."""
    parts = [f"{k}: {v}" for k, v in response.headers.items()]
    content: bytes = response.content
    if content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            parts += [book.read(name).decode(errors="replace") for name in book.namelist()]
    else:
        parts.append(content.decode(errors="replace"))
    return "\n".join(parts)


def _harvest(value: Any, pool: dict[str, set[str]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "id" or key.endswith("_id")) and item:
                pool.setdefault(key, set()).add(item)
                pool.setdefault("*", set()).add(item)
            _harvest(item, pool)
    elif isinstance(value, list):
        for item in value:
            _harvest(item, pool)


def _candidates(name: str, pool: dict[str, set[str]], stack: Stack) -> list[str]:
    if name == "family_card_number":
        return [r["family_card_number"] for r in stack.residents]
    # Ids harvested under the parameter's own name; any id at all when none was.
    values = pool.get(name) or (pool["*"] if name.endswith("_id") or name == "id" else set())
    return sorted(values)[:MAX_CANDIDATES]


def crawl(stack: Stack, role: str) -> list[tuple[str, Any]]:
    """Every GET the role may try, each answer kept as (url, response)."""
    document = stack.call("GET", "/openapi.json").json()
    pool: dict[str, set[str]] = {"*": set()}
    # Ids a provider could have learned elsewhere or guessed: every seeded one.
    for resident in stack.residents:
        pool.setdefault("resident_id", set()).add(resident["id"])
        pool["*"].add(resident["id"])
    pool.setdefault("opportunity_id", set()).add(stack.opportunity_id)
    pool.setdefault("organisation_id", set()).update(stack.org_ids.values())

    operations = []
    for path, item in document["paths"].items():
        get = item.get("get")
        if get is None:
            continue
        required = [
            p["name"]
            for p in get.get("parameters", []) + item.get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        ]
        formats = [
            p
            for p in get.get("parameters", [])
            if p.get("in") == "query" and p.get("name") == "format"
        ]
        operations.append((path, required, bool(formats)))
    # Operations without path parameters first: their answers feed the pool.
    operations.sort(key=lambda op: len(PARAM.findall(op[0])))

    answers: list[tuple[str, Any]] = []
    for path, required, has_format in operations:
        names = PARAM.findall(path) + required
        urls: list[tuple[str, dict[str, str]]] = [(path, {})]
        for name in names:
            expanded = []
            for url, query in urls:
                for value in _candidates(name, pool, stack):
                    if "{" + name + "}" in url:
                        expanded.append((url.replace("{" + name + "}", value), query))
                    else:
                        expanded.append((url, query | {name: value}))
            urls = expanded[:MAX_URLS_PER_OPERATION]
        for url, query in urls:
            variants = [query]
            if has_format:
                variants += [query | {"format": "csv"}, query | {"format": "xlsx"}]
            for params in variants:
                response = stack.call("GET", url, role, params=params)
                answers.append((f"{url}?{params}", response))
                if response.headers.get("content-type", "").startswith("application/json"):
                    _harvest(response.json(), pool)
    return answers


def _personal_values(stack: Stack, exclude: set[str]) -> dict[str, str]:
    values = {}
    for resident in stack.residents:
        if resident["id"] in exclude:
            continue
        for field in PERSONAL_FIELDS:
            if resident.get(field):
                values[resident[field]] = f"{field} of resident {resident['id']}"
    return values


def _leaks(answers: list[tuple[str, Any]], forbidden: dict[str, str]) -> list[str]:
    found = []
    for url, response in answers:
        text = _text(response)
        found += [f"{url}: {what}" for value, what in forbidden.items() if value in text]
    return found


def test_provider_sees_only_the_resident_disclosed_to_it(stack: Stack) -> None:
    answers = crawl(stack, "company")
    assert sum(1 for _, r in answers if r.status_code == 200) >= 10
    assert not _leaks(answers, _personal_values(stack, exclude={stack.disclosed_resident_id}))
    # The scan can see a disclosure: the disclosed resident's NIK does reach the provider.
    disclosed = next(r for r in stack.residents if r["id"] == stack.disclosed_resident_id)
    assert any(disclosed["nik"] in _text(r) for _, r in answers)


def test_other_provider_sees_no_personal_data(stack: Stack) -> None:
    answers = crawl(stack, "other_company")
    assert sum(1 for _, r in answers if r.status_code == 200) >= 10
    assert not _leaks(answers, _personal_values(stack, exclude=set()))


def test_regional_agency_sees_no_personal_data(stack: Stack) -> None:
    answers = crawl(stack, "regional_agency")
    assert sum(1 for _, r in answers if r.status_code == 200) >= 5
    assert not _leaks(answers, _personal_values(stack, exclude=set()))
