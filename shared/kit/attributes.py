"""One object built from another's attributes of the same names.

A response model or a pure rule's record often takes most of its fields straight from a row:
writing ``name=row.name`` for each repeats the field list the class already holds, and a field
added to the class then needs a second edit. ``build`` reads the class's own field list.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def field_names(kind: type[Any]) -> tuple[str, ...]:
    """The fields of a dataclass or a pydantic model, in their declared order."""
    if dataclasses.is_dataclass(kind):
        return tuple(field.name for field in dataclasses.fields(kind))
    declared = getattr(kind, "model_fields", None)
    if isinstance(declared, dict):
        return tuple(declared)
    raise TypeError(f"{kind.__name__} is neither a dataclass nor a pydantic model")


def build(kind: type[T], source: object, /, **values: Any) -> T:
    """A ``kind`` whose fields are ``values`` where given and ``source``'s attributes of the same
    names otherwise. Every other field must be an attribute of ``source`` (AttributeError if
    not): a field silently left to its default would hide a renamed attribute."""
    copied = {name: getattr(source, name) for name in field_names(kind) if name not in values}
    return kind(**copied, **values)
