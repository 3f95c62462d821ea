"""Small-cell suppression of a table of counts, pure: no database, no HTTP.

A report shows counts that add up: a district is the sum of its villages, the target group the
sum of its sexes. Hiding a small cell on its own is undone by subtraction (district minus the
villages shown), so a hidden cell must never be the only hidden one of its group.

- Primary suppression: a count of 1 .. threshold-1 is hidden. Zero is shown, as statistical
  agencies commonly do (Eurostat, ONS, BPS tables): a zero names nobody, and hiding zeros would
  hide most cells of a small programme without protecting anyone. A zero is also never taken as
  a complement: the attacker knows the rule, and a hidden zero next to a hidden 3 still gives
  the 3 away as "parent minus shown" whenever the zero is guessed.
- Complementary suppression: a group (a parent total and its parts) in which exactly one of
  the parent and its parts is hidden gives that one away as a sum or a difference. Then the
  smallest shown part with a positive count is hidden too; when no part is left to hide, the
  parent is. Repeated until no group has exactly one hidden cell (a fixed point: each round
  only hides more, and there are finitely many cells).

Known limit: the rule makes every single group safe against subtraction; it does not solve the
system of all groups at once as a full linear-programming audit would.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Group(Generic[K]):
    """``parent`` is the sum of ``parts`` (or, for counts of distinct residents, close to it;
    treating a near sum as a sum only hides more)."""

    parent: K
    parts: Sequence[K]


def primary(count: int, threshold: int) -> bool:
    return 0 < count < threshold


def suppress(counts: Mapping[K, int], groups: Iterable[Group[K]], threshold: int) -> frozenset[K]:
    """The cells to hide. A key missing from ``counts`` counts zero."""
    if threshold <= 1:
        return frozenset()
    hidden = {key for key, count in counts.items() if primary(count, threshold)}
    every = list(groups)
    changed = True
    while changed:
        changed = False
        for group in every:
            cells = [group.parent, *group.parts]
            if sum(cell in hidden for cell in cells) != 1:
                continue
            shown = [part for part in group.parts if part not in hidden and counts.get(part, 0) > 0]
            # Ties go to the first key in sorted text order, so the choice is reproducible.
            choice = (
                min(shown, key=lambda part: (counts.get(part, 0), repr(part)))
                if shown
                else group.parent
            )
            if choice in hidden:
                # The parent alone is hidden and every part shown is zero: the parent is their
                # sum, zero, and a zero names nobody.
                continue
            hidden.add(choice)
            changed = True
    return frozenset(hidden)
