"""The counts a report cell holds, named as docs/contracts.md names them: the same names in
the summary's blocks and in the columns of a village's row."""

from __future__ import annotations

RESIDENT_COUNTS = ("registered", "verified", "in_target_group", "prioritised", "independent")
PLACEMENT_CELLS = (
    "proposed",
    "offered",
    "accepted",
    "started",
    "completed",
    "dropped",
    "slots_filled",
    "capital_disbursed_idr",
)
