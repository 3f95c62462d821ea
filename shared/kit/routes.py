"""What routes share beyond their dependencies: the docstring as the operation's description,
the page a route answers from a service's ``(items, next_cursor)``, and the answers of a
create a client may retry.

A description written as ``description=("..." "...")`` in the decorator is the one part of a
route that is prose; as the endpoint's docstring it reads as what it is. FastAPI keeps a
docstring's line breaks, so the OpenAPI text would change with the wrapping of the source:
``ProseRoute`` unwraps each paragraph, as a Markdown reader (Swagger UI, ReDoc) would.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Response, status
from fastapi.routing import APIRoute

from shared.kit.pagination import Page
from shared.kit.problems import problem_responses

T = TypeVar("T")


def prose(docstring: str) -> str:
    """A docstring's paragraphs, each on one line; paragraphs stay apart by a blank line."""
    paragraphs = inspect.cleandoc(docstring).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


class ProseRoute(APIRoute):
    """A route whose description, unless given, is its endpoint's docstring as ``prose``.
    For prose only: a docstring with a list or a code block would lose its line breaks."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        description: str | None = None,
        **kwargs: Any,
    ) -> None:
        if description is None and endpoint.__doc__:
            description = prose(endpoint.__doc__)
        super().__init__(path, endpoint, description=description, **kwargs)


def page_of(result: tuple[Sequence[T], str | None]) -> Page[T]:
    """The answer of a paginated route from its service's rows and next cursor."""
    items, next_cursor = result
    return Page(items=list(items), next_cursor=next_cursor)


def retry_responses(already: str, *problems: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a create a client may retry: 200 with what the first call
    made (``already`` says so), besides the route's 201, and the ``problems`` it documents."""
    return {200: {"description": already}, **problem_responses(*problems)}


def answer_retry(response: Response, created: bool) -> None:
    """A create that found what an earlier call made (a retry) answers 200, not 201."""
    if not created:
        response.status_code = status.HTTP_200_OK
