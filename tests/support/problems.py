"""Reading the problem responses (``application/problem+json``) that the services answer with."""

from __future__ import annotations

from typing import Any

import httpx

from shared.kit.problems import PROBLEM_MEDIA_TYPE


def problem_errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``errors`` of a problem response, checking first that it is one."""
    # Exactly the media type: Starlette adds no charset to a non-text type.
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    return errors


def field_errors(response: httpx.Response) -> dict[str, str]:
    """The errors as {field: message}, a field named by the last part of its location."""
    return {str(error["loc"][-1]): error["msg"] for error in problem_errors(response)}


def error_fields(response: httpx.Response) -> set[str]:
    """The fields a 422 names, as dotted paths without the leading ``body``, ``query`` or
    ``header``."""
    names = set()
    for error in problem_errors(response):
        loc = [str(part) for part in error["loc"]]
        names.add(".".join(loc[1:] if loc[0] in ("body", "query", "header") else loc))
    return names
