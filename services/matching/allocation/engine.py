"""The core of a matching round over plain numpy arrays, with no database and no HTTP, so a
benchmark can call it on a million residents.

1. ``generate_candidates``: for each resident, the hard rules vectorised over the
   opportunities of its village's area, the weighted score of each feasible pair and the top K.
2. ``allocate``: a min-cost flow (OR-Tools ``SimpleMinCostFlow``) that maximises the total
   score, respecting each opportunity's remaining slots, each resident's proposal limit and,
   optionally, each village's fair share. A zero-score bypass keeps it always feasible.
3. ``justified_envy``: pairs where a resident of better priority, eligible for a slot and
   preferring it, was passed over for a resident of worse priority who got it.

Rules here mirror ``eligibility.rules`` (area, age, education, sex, capital once, one active
placement per kind); the rules about the resident or opportunity alone (status, target group,
open on the run date, slots left) are applied when the arrays are built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from services.matching.scoring.features import (
    DISTANCE_SAME_DISTRICT,
    DISTANCE_SAME_REGENCY,
    DISTANCE_SAME_VILLAGE,
    FEATURES,
)

ANY_AREA = ""
# Score points are kept to two decimals in the integer costs of the flow.
GAIN_SCALE = 100
# Priority key of a resident with unknown decile or rank: after everyone known.
UNKNOWN_DECILE = 11
UNKNOWN_RANK = 99_999


@dataclass
class ResidentArrays:
    """Residents that pass the resident-only rules. Region fields are indices into the
    ``village_codes`` (and district/regency) lists the caller keeps."""

    village: NDArray[np.int32]
    district: NDArray[np.int32]
    regency: NDArray[np.int32]
    age: NDArray[np.int16]  # -1 unknown
    sex: NDArray[np.int8]  # 0 unknown, 1 M, 2 F
    education: NDArray[np.int8]
    skills: NDArray[np.uint64]  # (n, W): skill s is bit s % 64 of word s // 64
    decile: NDArray[np.int8]  # 0 unknown
    priority_rank: NDArray[np.int32]  # 0 unranked
    waiting_days: NDArray[np.float32]
    active_kinds: NDArray[np.int32]  # bit k set: an active placement of kind k
    received_capital: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.village.shape[0])

    def priority_key(self) -> NDArray[np.int64]:
        """Lower is better: the poorer decile first, then the village's priority rank."""
        decile = np.where(self.decile > 0, self.decile, UNKNOWN_DECILE).astype(np.int64)
        rank = np.where(self.priority_rank > 0, self.priority_rank, UNKNOWN_RANK).astype(np.int64)
        return decile * 1_000_000 + np.minimum(rank, UNKNOWN_RANK)


@dataclass
class OpportunityArrays:
    """Opportunities that pass the opportunity-only rules, with their remaining capacity."""

    kind: NDArray[np.int8]  # index into eligibility.rules.KINDS, -1 other
    is_capital: NDArray[np.bool_]
    is_training: NDArray[np.bool_]
    min_age: NDArray[np.int16]  # -1 none
    max_age: NDArray[np.int16]  # -1 none
    min_education: NDArray[np.int8]
    sex: NDArray[np.int8]  # 0 any
    village: NDArray[np.int32]  # -1 no location, -2 a village of no resident here
    district: NDArray[np.int32]
    regency: NDArray[np.int32]
    area_codes: Sequence[tuple[str, ...]]  # empty: every village
    required: NDArray[np.uint64]  # (m, W), packed as the residents' skills
    taught: NDArray[np.uint64]  # (m, W)
    capacity: NDArray[np.int32]

    def __len__(self) -> int:
        return int(self.kind.shape[0])


@dataclass
class ResidentScores:
    """Resident-only feature values (they do not depend on the opportunity)."""

    village_priority: NDArray[np.float32]
    welfare_decile: NDArray[np.float32]
    waiting_time: NDArray[np.float32]
    # The allocation maximises the priority-weighted score: each resident's scores count
    # ``1 + priority_weighting x priority`` times, so that between two residents who would
    # gain alike, the one of better priority gets the better slot.
    allocation_weight: NDArray[np.float32]


@dataclass
class Candidates:
    resident: NDArray[np.int32]
    opportunity: NDArray[np.int32]
    gain: NDArray[np.int64]  # priority-weighted score x GAIN_SCALE
    contributions: NDArray[np.float32]  # (n, len(FEATURES)), weighted
    eligible_pairs: int

    def __len__(self) -> int:
        return int(self.resident.shape[0])


def _prefixes(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def opportunities_by_village(
    village_codes: Sequence[str], area_codes: Sequence[tuple[str, ...]]
) -> list[NDArray[np.int32]]:
    """For each village index, the opportunities whose eligible area contains it."""
    by_area: dict[str, list[int]] = defaultdict(list)
    for j, areas in enumerate(area_codes):
        for area in areas or (ANY_AREA,):
            by_area[area].append(j)
    result = []
    for code in village_codes:
        found: set[int] = set(by_area.get(ANY_AREA, ()))
        for prefix in _prefixes(code):
            found.update(by_area.get(prefix, ()))
        result.append(np.array(sorted(found), dtype=np.int32))
    return result


@dataclass(frozen=True)
class ByVillage:
    """Each village's opportunities (whose area holds it) and residents: the residents of
    village v are ``residents[bounds[v]:bounds[v + 1]]``."""

    opportunities: list[NDArray[np.int32]]
    residents: NDArray[np.int64]
    bounds: NDArray[np.int64]

    @classmethod
    def of(
        cls, res: ResidentArrays, opp: OpportunityArrays, village_codes: Sequence[str]
    ) -> ByVillage:
        order = np.argsort(res.village, kind="stable")
        bounds = np.searchsorted(res.village[order], np.arange(len(village_codes) + 1))
        return cls(opportunities_by_village(village_codes, opp.area_codes), order, bounds)


def feasible_block(
    res: ResidentArrays, opp: OpportunityArrays, rows: NDArray[np.int64], cols: NDArray[np.int32]
) -> NDArray[np.bool_]:
    """The pair rules for rows x cols (area is settled by the caller's grouping)."""
    age = res.age[rows][:, None]
    min_age = opp.min_age[cols][None, :]
    max_age = opp.max_age[cols][None, :]
    bounded = (min_age >= 0) | (max_age >= 0)
    ok = ~(bounded & (age < 0))
    ok &= (min_age < 0) | (age >= min_age)
    ok &= (max_age < 0) | (age <= max_age)
    ok &= res.education[rows][:, None] >= opp.min_education[cols][None, :]
    ok &= (opp.sex[cols][None, :] == 0) | (res.sex[rows][:, None] == opp.sex[cols][None, :])
    ok &= ~(opp.is_capital[cols][None, :] & res.received_capital[rows][:, None])
    kind = opp.kind[cols].astype(np.int32)
    kind_bit = np.where(kind >= 0, np.left_shift(1, np.maximum(kind, 0)), 0).astype(np.int32)
    ok &= (res.active_kinds[rows][:, None] & kind_bit[None, :]) == 0
    return ok


@dataclass
class PairFeatures:
    """The features that depend on the pair, for a block of rows x cols (unweighted)."""

    skills_match: NDArray[np.float32]
    distance: NDArray[np.float32]
    training_gap: NDArray[np.float32]


DISTANCE_BY_TIER = np.array(
    [0.0, DISTANCE_SAME_REGENCY, DISTANCE_SAME_DISTRICT, DISTANCE_SAME_VILLAGE], dtype=np.float32
)


def _popcount_and(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> NDArray[np.uint8]:
    """Per pair, how many bits of the packed skill sets a (n, W) and b (m, W) share."""
    total = np.zeros((a.shape[0], b.shape[0]), dtype=np.uint8)
    for word in range(a.shape[1]):
        total += np.bitwise_count(a[:, word][:, None] & b[:, word][None, :])
    return total


def pair_features_block(
    res: ResidentArrays, opp: OpportunityArrays, rows: NDArray[np.int64], cols: NDArray[np.int32]
) -> PairFeatures:
    skills = res.skills[rows]
    required = opp.required[cols]
    required_count = np.bitwise_count(required).sum(axis=1, dtype=np.float32)
    have = _popcount_and(skills, required).astype(np.float32)
    skills_match = np.where(
        required_count > 0, have / np.maximum(required_count, 1.0), np.float32(1.0)
    ).astype(np.float32, copy=False)

    # Codes are hierarchical: the same village is the same district and regency too, so the
    # number of matching levels is the distance tier.
    tier = (res.village[rows][:, None] == opp.village[cols][None, :]).astype(np.int8)
    tier += res.district[rows][:, None] == opp.district[cols][None, :]
    tier += res.regency[rows][:, None] == opp.regency[cols][None, :]
    # -1: no location (capital, mentoring at home); -2: located where no resident lives.
    tier[:, opp.village[cols] == -1] = 3
    distance = DISTANCE_BY_TIER[tier]

    taught = opp.taught[cols]
    taught_count = np.bitwise_count(taught).sum(axis=1, dtype=np.int16)
    known_taught = _popcount_and(skills, taught)
    training_gap = opp.is_training[cols][None, :] & (taught_count[None, :] > known_taught)
    return PairFeatures(skills_match, distance, training_gap.astype(np.float32))


def _resident_part(
    resident_scores: ResidentScores, rows: NDArray[np.int64], weights: NDArray[np.float32]
) -> NDArray[np.float32]:
    return (
        weights[2] * resident_scores.village_priority[rows]
        + weights[3] * resident_scores.welfare_decile[rows]
        + weights[4] * resident_scores.waiting_time[rows]
    ).astype(np.float32)


def block_total(
    features: PairFeatures,
    resident_scores: ResidentScores,
    rows: NDArray[np.int64],
    weights: NDArray[np.float32],
) -> NDArray[np.float32]:
    total = weights[0] * features.skills_match
    total += weights[1] * features.distance
    total += weights[5] * features.training_gap
    total += _resident_part(resident_scores, rows, weights)[:, None]
    return total


def block_contributions(
    features: PairFeatures,
    resident_scores: ResidentScores,
    rows: NDArray[np.int64],
    row_idx: NDArray[np.int64],
    col_idx: NDArray[np.int64],
    weights: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Weighted contributions of the picked pairs of a block, shape (k, len(FEATURES))."""
    picked_rows = rows[row_idx]
    out = np.empty((row_idx.shape[0], len(FEATURES)), dtype=np.float32)
    out[:, 0] = features.skills_match[row_idx, col_idx]
    out[:, 1] = features.distance[row_idx, col_idx]
    out[:, 2] = resident_scores.village_priority[picked_rows]
    out[:, 3] = resident_scores.welfare_decile[picked_rows]
    out[:, 4] = resident_scores.waiting_time[picked_rows]
    out[:, 5] = features.training_gap[row_idx, col_idx]
    out *= weights[None, :]
    return out


def score_block(
    res: ResidentArrays,
    resident_scores: ResidentScores,
    opp: OpportunityArrays,
    rows: NDArray[np.int64],
    cols: NDArray[np.int32],
    weights: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Weighted feature contributions of every pair, shape (rows, cols, len(FEATURES)):
    for small blocks (one pair's explanation)."""
    features = pair_features_block(res, opp, rows, cols)
    n, m = rows.shape[0], cols.shape[0]
    row_idx = np.repeat(np.arange(n), m)
    col_idx = np.tile(np.arange(m), n)
    flat = block_contributions(features, resident_scores, rows, row_idx, col_idx, weights)
    return flat.reshape(n, m, len(FEATURES))


def generate_candidates(
    res: ResidentArrays,
    resident_scores: ResidentScores,
    opp: OpportunityArrays,
    village_codes: Sequence[str],
    weights: NDArray[np.float32],
    top_k: int,
    *,
    one_per_kind: bool = False,
    only_opportunities: NDArray[np.bool_] | None = None,
    only_residents: NDArray[np.bool_] | None = None,
    block_cells: int = 2_000_000,
    keep_contributions: bool = True,
    by_village: ByVillage | None = None,
) -> Candidates:
    """The top K feasible opportunities of every resident, by score. ``one_per_kind`` keeps only
    the best of each kind, so a resident given several proposals never gets two of a kind.
    ``only_opportunities`` and ``only_residents`` restrict a refill pass. Without
    ``keep_contributions`` the pairs carry their gain only (``contributions`` has no columns):
    a round needs the contributions of the few pairs it proposes, which
    ``pair_contributions`` gives, not 24 bytes for each of millions of candidates.
    ``by_village``: ``ByVillage.of`` the same residents and opportunities, computed once for
    a round's passes."""
    if by_village is None:
        by_village = ByVillage.of(res, opp, village_codes)
    villages = by_village.opportunities
    if only_opportunities is not None:
        villages = [cols[only_opportunities[cols]] for cols in villages]
    order, bounds = by_village.residents, by_village.bounds
    # Each village's pairs, computed a district at a time (its villages share most of their
    # opportunities: one block of features for all instead of one per village), then put
    # back in village order, as one village at a time would have given them.
    found: dict[int, tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32]]] = {}
    eligible_pairs = 0
    for group in _district_groups(res, order, bounds, villages, only_residents, block_cells):
        eligible_pairs += _candidates_of_group(
            res, resident_scores, opp, group, weights, top_k, one_per_kind, block_cells, found
        )
    out_res: list[NDArray[np.int32]] = []
    out_opp: list[NDArray[np.int32]] = []
    out_contrib: list[NDArray[np.float32]] = []
    out_gain: list[NDArray[np.int64]] = []
    for v in sorted(found):
        picked_rows, picked_cols, contributions = found.pop(v)
        out_res.append(picked_rows)
        out_opp.append(picked_cols)
        out_gain.append(_gain(contributions, resident_scores, picked_rows))
        if keep_contributions:
            out_contrib.append(contributions)
    if not out_res:
        empty_i = np.zeros(0, dtype=np.int32)
        return Candidates(
            empty_i,
            empty_i,
            np.zeros(0, dtype=np.int64),
            np.zeros((0, len(FEATURES)), dtype=np.float32),
            eligible_pairs,
        )
    residents = np.concatenate(out_res)
    contributions = (
        np.concatenate(out_contrib)
        if keep_contributions
        else np.empty((residents.shape[0], 0), dtype=np.float32)
    )
    return Candidates(
        residents, np.concatenate(out_opp), np.concatenate(out_gain), contributions, eligible_pairs
    )


@dataclass
class _Group:
    """Villages whose pairs are computed in one block: rows are their members, village after
    village; columns the union of their opportunities."""

    villages: list[int]
    members: list[NDArray[np.int64]]
    cols: list[NDArray[np.int32]]


def _district_groups(
    res: ResidentArrays,
    order: NDArray[np.int64],
    bounds: NDArray[np.int64],
    villages: list[NDArray[np.int32]],
    only_residents: NDArray[np.bool_] | None,
    block_cells: int,
) -> list[_Group]:
    """The villages with members and opportunities, grouped by district, each group's block
    (rows x union of columns) within ``block_cells`` where a village alone is."""
    by_district: dict[int, list[tuple[int, NDArray[np.int64], NDArray[np.int32]]]] = defaultdict(
        list
    )
    for v, cols in enumerate(villages):
        members = order[bounds[v] : bounds[v + 1]]
        if only_residents is not None:
            members = members[only_residents[members]]
        if members.size == 0 or cols.size == 0:
            continue
        by_district[int(res.district[members[0]])].append((v, members.astype(np.int64), cols))
    groups: list[_Group] = []
    for items in by_district.values():
        group = _Group([], [], [])
        rows, union = 0, np.zeros(0, dtype=np.int32)
        for v, members, cols in items:
            grown = np.union1d(union, cols)
            if group.villages and (rows + members.size) * grown.size > block_cells:
                groups.append(group)
                group = _Group([], [], [])
                rows, grown = 0, cols
            group.villages.append(v)
            group.members.append(members)
            group.cols.append(cols)
            rows += members.size
            union = grown
        groups.append(group)
    return groups


def _candidates_of_group(
    res: ResidentArrays,
    resident_scores: ResidentScores,
    opp: OpportunityArrays,
    group: _Group,
    weights: NDArray[np.float32],
    top_k: int,
    one_per_kind: bool,
    block_cells: int,
    found: dict[int, tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.float32]]],
) -> int:
    """Each village's top K of the group into ``found``; the group's eligible pairs. Every
    village chooses from the scores of its own columns, in their order, exactly as a block of
    that village alone (the features are computed pair by pair, whatever the block)."""
    union = group.cols[0] if len(group.cols) == 1 else np.unique(np.concatenate(group.cols))
    eligible_pairs = 0
    rows_all = np.concatenate(group.members) if len(group.members) > 1 else group.members[0]
    # A village alone beyond the block size is cut into runs of rows.
    step = max(1, block_cells // max(1, union.size))
    for start in range(0, rows_all.size, step):
        rows = rows_all[start : start + step]
        ok = feasible_block(res, opp, rows, union)
        features = pair_features_block(res, opp, rows, union)
        score = np.where(ok, block_total(features, resident_scores, rows, weights), -np.inf)
        del ok
        picked_r: list[NDArray[np.int64]] = []
        picked_c: list[NDArray[np.int64]] = []
        owners: list[tuple[int, int]] = []
        offset = 0
        for v, members, cols in zip(group.villages, group.members, group.cols, strict=True):
            lo, hi = max(offset, start), min(offset + members.size, start + rows.size)
            offset += members.size
            if lo >= hi:
                continue
            a, b = lo - start, hi - start
            positions = np.searchsorted(union, cols)
            sub = score[a:b] if cols.size == union.size else score[a:b][:, positions]
            eligible_pairs += int(np.isfinite(sub).sum())
            if one_per_kind:
                sub = _best_of_each_kind(sub, opp.kind[cols])
            k = min(top_k, cols.size)
            if k < cols.size:
                top = np.argpartition(-sub, k - 1, axis=1)[:, :k]
            else:
                top = np.broadcast_to(np.arange(cols.size), (b - a, cols.size))
            keep = np.isfinite(np.take_along_axis(sub, top, axis=1))
            row_idx = np.broadcast_to(np.arange(a, b)[:, None], top.shape)[keep]
            col_idx = top[keep]
            picked_r.append(row_idx)
            picked_c.append(positions[col_idx])
            owners.append((v, int(row_idx.shape[0])))
        if not owners:
            continue
        row_idx = np.concatenate(picked_r)
        col_idx = np.concatenate(picked_c)
        contributions = block_contributions(
            features, resident_scores, rows, row_idx, col_idx, weights
        )
        cut = 0
        for v, count in owners:
            piece = (
                rows[row_idx[cut : cut + count]].astype(np.int32),
                union[col_idx[cut : cut + count]],
                contributions[cut : cut + count],
            )
            if v in found:  # a village cut into runs of rows: its runs in order
                earlier = found[v]
                piece = (
                    np.concatenate([earlier[0], piece[0]]),
                    np.concatenate([earlier[1], piece[1]]),
                    np.concatenate([earlier[2], piece[2]]),
                )
            found[v] = piece
            cut += count
    return eligible_pairs


def _gain(
    contributions: NDArray[np.float32], resident_scores: ResidentScores, residents: NDArray[Any]
) -> NDArray[np.int64]:
    """The priority-weighted score of each pair, in the flow's integer units."""
    weighted = contributions.sum(axis=1).astype(np.float64) * resident_scores.allocation_weight[
        residents
    ].astype(np.float64)
    return np.rint(weighted * GAIN_SCALE).astype(np.int64)


def pair_contributions(
    res: ResidentArrays,
    resident_scores: ResidentScores,
    opp: OpportunityArrays,
    residents: NDArray[Any],
    opportunities: NDArray[Any],
    weights: NDArray[np.float32],
) -> NDArray[np.float32]:
    """Weighted contributions of the pairs (residents[k], opportunities[k]), shape
    (k, len(FEATURES)): the same values ``generate_candidates`` computes in its blocks (the
    same float32 operations, pair by pair instead of over a block)."""
    rows = np.asarray(residents, dtype=np.int64)
    cols = np.asarray(opportunities, dtype=np.int64)
    skills = res.skills[rows]
    required = opp.required[cols]
    required_count = np.bitwise_count(required).sum(axis=1, dtype=np.float32)
    have = np.zeros(rows.shape[0], dtype=np.uint8)
    for word in range(skills.shape[1]):
        have += np.bitwise_count(skills[:, word] & required[:, word])
    skills_match = np.where(
        required_count > 0,
        have.astype(np.float32) / np.maximum(required_count, np.float32(1.0)),
        np.float32(1.0),
    ).astype(np.float32, copy=False)
    tier = (res.village[rows] == opp.village[cols]).astype(np.int8)
    tier += res.district[rows] == opp.district[cols]
    tier += res.regency[rows] == opp.regency[cols]
    tier[opp.village[cols] == -1] = 3
    distance = DISTANCE_BY_TIER[tier]
    taught = opp.taught[cols]
    taught_count = np.bitwise_count(taught).sum(axis=1, dtype=np.int16)
    known_taught = np.zeros(rows.shape[0], dtype=np.uint8)
    for word in range(skills.shape[1]):
        known_taught += np.bitwise_count(skills[:, word] & taught[:, word])
    training_gap = (opp.is_training[cols] & (taught_count > known_taught)).astype(np.float32)
    out = np.empty((rows.shape[0], len(FEATURES)), dtype=np.float32)
    out[:, 0] = skills_match
    out[:, 1] = distance
    out[:, 2] = resident_scores.village_priority[rows]
    out[:, 3] = resident_scores.welfare_decile[rows]
    out[:, 4] = resident_scores.waiting_time[rows]
    out[:, 5] = training_gap
    out *= weights[None, :]
    return out


def _by_key(candidates: Candidates, n_opp: int) -> tuple[NDArray[np.int64], Candidates]:
    """The pairs sorted by (resident, opportunity), with their keys; no sort if they already
    are (a merged set is)."""
    key = candidates.resident.astype(np.int64) * max(1, n_opp) + candidates.opportunity
    if key.shape[0] < 2 or bool(np.all(key[1:] > key[:-1])):
        return key, candidates
    order = np.argsort(key)
    return key[order], Candidates(
        candidates.resident[order],
        candidates.opportunity[order],
        candidates.gain[order],
        candidates.contributions[order],
        candidates.eligible_pairs,
    )


def sort_by_key(candidates: Candidates, n_opp: int) -> Candidates:
    """The pairs sorted by (resident, opportunity)."""
    return _by_key(candidates, n_opp)[1]


def merge_candidates(first: Candidates, second: Candidates, n_opp: int) -> Candidates:
    """The union of two candidate sets, each pair once (the first's copy when in both), sorted
    by (resident, opportunity). Each set holds a pair at most once (a resident's top K are
    distinct opportunities), so this sorts only what is not sorted yet and merges the two runs,
    instead of sorting the union."""
    first_key, first = _by_key(first, n_opp)
    second_key, second = _by_key(second, n_opp)
    at = np.searchsorted(first_key, second_key)
    inside = at < first_key.shape[0]
    new = np.ones(second_key.shape[0], dtype=bool)
    new[inside] = first_key[at[inside]] != second_key[inside]
    at = at[new]
    # Each new pair lands after the first's pairs of smaller key and the new pairs before it.
    second_slot = at + np.arange(at.shape[0])
    first_slot = np.arange(first_key.shape[0]) + np.searchsorted(
        at, np.arange(first_key.shape[0]), side="right"
    )
    total = first_key.shape[0] + at.shape[0]

    def merged(a: NDArray[Any], b: NDArray[Any]) -> NDArray[Any]:
        out = np.empty((total, *a.shape[1:]), dtype=a.dtype)
        out[first_slot] = a
        out[second_slot] = b[new]
        return out

    return Candidates(
        merged(first.resident, second.resident),
        merged(first.opportunity, second.opportunity),
        merged(first.gain, second.gain),
        merged(first.contributions, second.contributions),
        first.eligible_pairs,
    )


def _best_of_each_kind(score: NDArray[np.float64], kinds: NDArray[np.int8]) -> NDArray[np.float64]:
    result = np.full_like(score, -np.inf)
    for kind in np.unique(kinds):
        columns = np.flatnonzero(kinds == kind)
        sub = score[:, columns]
        best = np.argmax(sub, axis=1)
        rows = np.arange(score.shape[0])
        result[rows, columns[best]] = sub[rows, best]
    return result


def village_quotas(
    resident_village: NDArray[np.int32],
    village_district: NDArray[np.int32],
    candidates: Candidates,
    opp_district: NDArray[np.int32],
    capacity: NDArray[np.int32],
) -> NDArray[np.int64]:
    """Fair share: the slots of opportunities located in a district, split between its villages
    in proportion to their residents who have at least one candidate (rounded up). A village of
    a district without located slots is not capped."""
    n_villages = village_district.shape[0]
    with_candidates = np.zeros(resident_village.shape[0], dtype=bool)
    with_candidates[candidates.resident] = True
    eligible = np.bincount(resident_village[with_candidates], minlength=n_villages)
    n_districts = int(max(village_district.max(initial=-1), opp_district.max(initial=-1))) + 1
    located = opp_district >= 0
    slots = np.bincount(opp_district[located], weights=capacity[located], minlength=n_districts)
    per_district = np.bincount(village_district, weights=eligible, minlength=n_districts)
    district_slots = slots[village_district]
    district_eligible = per_district[village_district]
    share = np.ceil(district_slots * eligible / np.maximum(district_eligible, 1)).astype(np.int64)
    uncapped = np.iinfo(np.int32).max
    return np.where(district_slots > 0, share, uncapped)


def allocate(
    n_residents: int,
    capacity: NDArray[np.int32],
    candidates: Candidates,
    *,
    per_resident: int = 1,
    resident_village: NDArray[np.int32] | None = None,
    village_quota: NDArray[np.int64] | None = None,
) -> NDArray[np.bool_]:
    """Which candidate pairs are proposed: a maximum-score assignment by min-cost flow.

    Nodes: source, sink, one node per village (or one for all), residents, opportunities.
    source -> village (its quota) -> resident (``per_resident``) -> opportunity (1, cost
    G - gain) -> sink (remaining slots); source -> sink is the bypass (cost G) taken by every
    unit of supply that finds no slot, so the problem is always feasible. Every unit pays G
    once, so minimising cost maximises the total gain.
    """
    n_opp = int(capacity.shape[0])
    n_cand = len(candidates)
    if n_cand == 0 or n_residents == 0:
        return np.zeros(n_cand, dtype=bool)
    supply = n_residents * per_resident
    if village_quota is None or resident_village is None:
        group_of = np.zeros(n_residents, dtype=np.int64)
        group_cap = np.array([supply], dtype=np.int64)
    else:
        group_of = resident_village.astype(np.int64)
        group_cap = np.minimum(village_quota.astype(np.int64), supply)
    n_groups = int(group_cap.shape[0])
    source, sink = 0, 1
    group_base = 2
    resident_base = group_base + n_groups
    opp_base = resident_base + n_residents
    big = int(candidates.gain.max(initial=0)) + 1

    resident_nodes = resident_base + np.arange(n_residents, dtype=np.int64)
    opp_nodes = opp_base + np.arange(n_opp, dtype=np.int64)
    tails = np.concatenate(
        [
            np.full(n_groups, source),
            [source],
            group_base + group_of,
            resident_base + candidates.resident.astype(np.int64),
            opp_nodes,
        ]
    ).astype(np.int32)
    heads = np.concatenate(
        [
            group_base + np.arange(n_groups),
            [sink],
            resident_nodes,
            opp_base + candidates.opportunity.astype(np.int64),
            np.full(n_opp, sink),
        ]
    ).astype(np.int32)
    capacities = np.concatenate(
        [
            group_cap,
            [supply],
            np.full(n_residents, per_resident),
            np.ones(n_cand, dtype=np.int64),
            capacity.astype(np.int64),
        ]
    ).astype(np.int64)
    costs = np.concatenate(
        [
            np.zeros(n_groups, dtype=np.int64),
            [big],
            np.zeros(n_residents, dtype=np.int64),
            big - candidates.gain,
            np.zeros(n_opp, dtype=np.int64),
        ]
    ).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    flow.set_nodes_supplies(
        np.array([source, sink], dtype=np.int32), np.array([supply, -supply], dtype=np.int64)
    )
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not find an optimum (status {status})")
    first_pair = n_groups + 1 + n_residents
    pair_arcs = arcs[first_pair : first_pair + n_cand]
    return np.asarray(flow.flows(pair_arcs)) > 0


# Up to this many places given per opportunity, justified envy compares column by column.
HOLDERS_BY_COLUMN = 16


def justified_envy(
    candidates: Candidates, chosen: NDArray[np.bool_], priority_key: NDArray[np.int64]
) -> int:
    """Pairs (a, b): b was given a slot of opportunity j, a was a candidate for j with better
    priority (lower key), was not given j and would score higher at j than at what a got."""
    if len(candidates) == 0 or not chosen.any():
        return 0
    n_res = int(priority_key.shape[0])
    best_gain = np.full(n_res, -1, dtype=np.int64)
    np.maximum.at(best_gain, candidates.resident[chosen], candidates.gain[chosen])
    envious = (~chosen) & (candidates.gain > best_gain[candidates.resident])
    if not envious.any():
        return 0
    given_opp = candidates.opportunity[chosen].astype(np.int64)
    n_opp = int(candidates.opportunity.max()) + 1
    holders = np.bincount(given_opp, minlength=n_opp)
    opp = candidates.opportunity[envious]
    mine = priority_key[candidates.resident[envious]]
    if int(holders.max()) <= HOLDERS_BY_COLUMN:
        # A few places per opportunity (the usual): each opportunity's holders' keys in a
        # small table, and one comparison per column, instead of a search per pair.
        by_opp = np.argsort(given_opp, kind="stable")
        sorted_opp = given_opp[by_opp]
        rank = np.arange(sorted_opp.shape[0]) - (np.cumsum(holders) - holders)[sorted_opp]
        # An empty cell is worse than no one.
        table = np.full((n_opp, int(holders.max())), np.iinfo(np.int64).min, dtype=np.int64)
        table[sorted_opp, rank] = priority_key[candidates.resident[chosen]][by_opp]
        worse = np.zeros(opp.shape[0], dtype=np.int64)
        for column in range(table.shape[1]):
            worse += table[opp, column] > mine
        return int(worse.sum())
    span = int(priority_key.max()) + 2
    given_key = given_opp * span + priority_key[candidates.resident[chosen]]
    given_key.sort()
    # Where each opportunity's run of given keys ends: a count, not a second search.
    run_end = np.cumsum(holders)
    opp64 = opp.astype(np.int64)
    worse_from = np.searchsorted(given_key, opp64 * span + mine, side="right")
    return int(np.maximum(run_end[opp64] - worse_from, 0).sum())
