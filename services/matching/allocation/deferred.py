"""The priority policy: deferred acceptance (Gale-Shapley; Roth-Peranson for capacities) with
residents proposing, over the candidate pairs of a round, vectorised in rounds.

Each resident proposes down her candidates by her own score (the priority-weighted gain: for
one resident it orders her candidates as her score does). Each opportunity keeps its best
applicants up to its remaining slots, best by priority (``priority_key``: the poorer decile,
then the village's rank), and within equal priority by the higher score. A resident may hold
up to ``per_resident`` places (the candidates hold at most one per kind). With village fair
shares, a village keeps its best-priority holders up to its quota as well.

Without fair shares the result is the resident-optimal stable allocation over the candidates:
no resident of better priority who prefers a place is passed over for one of worse priority
who got it (zero justified envy), and no place a resident prefers is left empty. All free
residents propose at once in each step: deferred acceptance's outcome does not depend on the
order in which proposals are made.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from services.matching.allocation.engine import Candidates


def _lexsort(*keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """``np.lexsort`` with the first key primary, as one stable sort of a single int64 when
    the keys' ranges fit in one (several times cheaper than a sort per key)."""
    combined = np.zeros(keys[0].shape[0], dtype=np.int64)
    span = 1
    for column in keys:
        low = int(column.min(initial=0))
        width = int(column.max(initial=0)) - low + 1
        span *= width
        if span >= 2**62:
            return np.lexsort(keys[::-1])
        combined *= width
        combined += column - low
    return np.argsort(combined, kind="stable")


def _order_position(*keys: NDArray[np.int64]) -> NDArray[np.int64]:
    """Each pair's position in the lexicographic order of ``keys`` (the first key primary)."""
    order = _lexsort(*keys)
    position = np.empty(order.shape[0], dtype=np.int64)
    position[order] = np.arange(order.shape[0], dtype=np.int64)
    return position


def _keep_best(
    pool: NDArray[np.int64],
    position: NDArray[np.int64],
    group: NDArray[np.int64],
    limit: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Of the candidate pairs in ``pool``, those among the ``limit[group]`` best of their group
    by ``position`` (whose order is grouped by ``group`` first)."""
    order = np.argsort(position[pool], kind="stable")
    sorted_group = group[pool[order]]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_group.shape[0]]))
    rank = np.arange(sorted_group.shape[0]) - run_start
    keep = np.empty(pool.shape[0], dtype=bool)
    keep[order] = rank < limit[sorted_group]
    return keep


def deferred_acceptance(
    n_residents: int,
    capacity: NDArray[np.int32],
    candidates: Candidates,
    priority_key: NDArray[np.int64],
    *,
    per_resident: int = 1,
    resident_village: NDArray[np.int32] | None = None,
    village_quota: NDArray[np.int64] | None = None,
) -> NDArray[np.bool_]:
    """Which candidate pairs are proposed under the priority policy."""
    n_cand = len(candidates)
    chosen = np.zeros(n_cand, dtype=bool)
    if n_cand == 0 or n_residents == 0:
        return chosen
    resident = candidates.resident.astype(np.int64)
    opportunity = candidates.opportunity.astype(np.int64)
    gain = candidates.gain.astype(np.int64)
    key = priority_key.astype(np.int64)[resident]
    # A resident's list: best gain first (ties by opportunity, so the run is reproducible).
    preference = _lexsort(resident, -gain, opportunity)
    starts = np.searchsorted(resident[preference], np.arange(n_residents + 1))
    next_choice = starts[:-1].copy()
    list_end = starts[1:]
    # An opportunity's order of its applicants: priority, then score, then a fixed tie-break.
    at_opportunity = _order_position(opportunity, key, -gain, resident)
    slots = capacity.astype(np.int64)
    capped = village_quota is not None and resident_village is not None
    if capped:
        assert resident_village is not None and village_quota is not None
        village = resident_village.astype(np.int64)[resident]
        at_village = _order_position(village, key, -gain, resident)
        quota = village_quota.astype(np.int64)
    held_count = np.zeros(n_residents, dtype=np.int64)
    held = np.zeros(0, dtype=np.int64)
    active = np.flatnonzero(next_choice < list_end)
    while active.size:
        proposals = preference[next_choice[active]]
        next_choice[active] += 1
        touched = np.zeros(slots.shape[0], dtype=bool)
        touched[opportunity[proposals]] = True
        mine = touched[opportunity[held]]
        pool = np.concatenate([held[mine], proposals])
        keep = _keep_best(pool, at_opportunity, opportunity, slots)
        rejected = pool[~keep]
        held = np.concatenate([held[~mine], pool[keep]])
        if capped:
            new = proposals[keep[-proposals.shape[0] :]]
            crowded = np.zeros(quota.shape[0], dtype=bool)
            crowded[village[new]] = True
            in_crowded = crowded[village[held]]
            if in_crowded.any():
                pool = held[in_crowded]
                keep = _keep_best(pool, at_village, village, quota)
                rejected = np.concatenate([rejected, pool[~keep]])
                held = np.concatenate([held[~in_crowded], pool[keep]])
        np.add.at(held_count, resident[proposals], 1)
        np.subtract.at(held_count, resident[rejected], 1)
        again = np.unique(np.concatenate([active, resident[rejected]]))
        active = again[(held_count[again] < per_resident) & (next_choice[again] < list_end[again])]
    chosen[held] = True
    return chosen
