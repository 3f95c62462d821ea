"""Cursor pagination: an opaque cursor over a keyset, and a capped ``limit``.

A page is ``{"items": [...], "next_cursor": "..."}``; ``next_cursor`` is null on the last page.
Order by columns whose values are JSON scalars (ids, codes, integers), the last one unique.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, literal, tuple_
from sqlalchemy.orm import Session

from shared.kit.problems import UnprocessableEntity

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PageParams:
    cursor: str | None
    limit: int


def page_params(
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="Opaque cursor from the previous page's next_cursor"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
) -> PageParams:
    return PageParams(cursor=cursor, limit=limit)


PageParamsDep = Annotated[PageParams, Depends(page_params)]


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(list(values), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise UnprocessableEntity(["query", "cursor"], "not a cursor this endpoint issued") from exc
    if not isinstance(values, list) or len(values) != width:
        raise UnprocessableEntity(["query", "cursor"], "not a cursor this endpoint issued")
    return values


def _typed(value: Any, column: ColumnElement[Any]) -> Any:
    """A cursor's value as its column's type: dates and times travel as ISO text, and some
    drivers (SQLite's) bind a date column only from a date."""
    try:
        kind = column.type.python_type
    except NotImplementedError:
        return value
    if kind in (date, datetime) and isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError as exc:
            raise UnprocessableEntity(
                ["query", "cursor"], "not a cursor this endpoint issued"
            ) from exc
    return value


def paginate(
    session: Session,
    statement: Select[Any],
    order_by: Sequence[ColumnElement[Any]],
    params: PageParams,
) -> tuple[list[Any], str | None]:
    """Run ``statement`` for one page in keyset order; returns the rows and the next cursor."""
    if params.cursor:
        after = decode_cursor(params.cursor, len(order_by))
        bound = [
            literal(_typed(value, column), type_=column.type)
            for value, column in zip(after, order_by, strict=True)
        ]
        statement = statement.where(tuple_(*order_by) > tuple_(*bound))
    rows = list(session.scalars(statement.order_by(*order_by).limit(params.limit + 1)))
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, str(column.key)) for column in order_by])
