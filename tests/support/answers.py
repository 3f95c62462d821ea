"""Reading a successful answer: the status a step must answer, then its JSON object."""

from __future__ import annotations

from typing import Any

import httpx


def json_body(response: httpx.Response, status: int) -> dict[str, Any]:
    """The JSON object of ``response``, once it answered ``status``; the answer's text is the
    assertion's message otherwise, so a failing step says what the service said."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body
