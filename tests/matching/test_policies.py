"""The two allocation policies on random instances: the priority policy (deferred acceptance)
is stable and has zero justified envy; the max-score policy reaches scipy's exact optimum;
solving per connected component gives what the global graph gives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.matching.allocation import components
from services.matching.allocation.components import ComponentSolver, Problem, solve
from services.matching.allocation.engine import Candidates, justified_envy
from tests.matching.test_allocation import _milp_optimum


def _instance(
    seed: int, regions: int, per_resident: int, capped: bool
) -> tuple[Problem, Candidates]:
    """Residents and opportunities in ``regions`` separate areas (pairs never cross one), with
    few distinct priorities and gains, so that ties are common."""
    rng = np.random.default_rng(seed)
    n, m = int(rng.integers(2, 25)), int(rng.integers(1, 9))
    resident_region = rng.integers(0, regions, size=n)
    opportunity_region = rng.integers(0, regions, size=m)
    pairs = [
        (i, j)
        for i in range(n)
        for j in range(m)
        if resident_region[i] == opportunity_region[j] and rng.random() < 0.6
    ]
    k = len(pairs)
    candidates = Candidates(
        np.array([p[0] for p in pairs], dtype=np.int32),
        np.array([p[1] for p in pairs], dtype=np.int32),
        rng.integers(0, 8, size=k).astype(np.int64) * 100,
        np.zeros((k, 6), dtype=np.float32),
        k,
    )
    villages = int(rng.integers(1, 4))
    # A village lies within one area, as a village lies within one regency.
    village = (resident_region * villages + rng.integers(0, villages, size=n)).astype(np.int32)
    problem = Problem(
        n_residents=n,
        capacity=rng.integers(0, 4, size=m).astype(np.int32),
        priority_key=rng.integers(1, 5, size=n).astype(np.int64),
        per_resident=per_resident,
        resident_village=village if capped else None,
        village_quota=(
            rng.integers(0, 4, size=regions * villages).astype(np.int64) if capped else None
        ),
    )
    return problem, candidates


def _blocking_pairs(problem: Problem, candidates: Candidates, chosen: np.ndarray) -> list[int]:
    """Unchosen pairs (a, j) where a would take j (a place free, or j better than her worst)
    and j would take a (a slot free, or a before its worst holder by priority, then score)."""
    key = problem.priority_key
    blocking = []
    for p in np.flatnonzero(~chosen):
        a, j, gain = candidates.resident[p], candidates.opportunity[p], candidates.gain[p]
        mine = candidates.gain[chosen & (candidates.resident == a)]
        wants = mine.size < problem.per_resident or gain > mine.min()
        holders = np.flatnonzero(chosen & (candidates.opportunity == j))
        worst = max(
            ((key[candidates.resident[h]], -candidates.gain[h]) for h in holders), default=None
        )
        takes = holders.size < problem.capacity[j] or (
            worst is not None and (key[a], -gain) < worst
        )
        if wants and takes:
            blocking.append(int(p))
    return blocking


def _feasible(problem: Problem, candidates: Candidates, chosen: np.ndarray) -> None:
    m = problem.capacity.shape[0]
    assert np.all(np.bincount(candidates.opportunity[chosen], minlength=m) <= problem.capacity)
    assert np.all(
        np.bincount(candidates.resident[chosen], minlength=problem.n_residents)
        <= problem.per_resident
    )
    if problem.village_quota is not None and problem.resident_village is not None:
        villages = problem.village_quota.shape[0]
        filled = np.bincount(
            problem.resident_village[candidates.resident[chosen]], minlength=villages
        )
        assert np.all(filled <= problem.village_quota)


SEEDS = st.integers(0, 2**32 - 1)
# A random round as (seed, regions, per_resident), the arguments of ``_instance``.
Round = tuple[int, int, int]
ROUNDS = st.tuples(SEEDS, st.integers(1, 3), st.integers(1, 2))


def _by_priority(round_: Round, capped: bool) -> tuple[Problem, Candidates, np.ndarray]:
    """A random round and the priority policy's allocation of it, checked feasible."""
    problem, candidates = _instance(*round_, capped=capped)
    chosen = solve("priority", problem, candidates)
    _feasible(problem, candidates, chosen)
    return problem, candidates, chosen


@settings(max_examples=150, deadline=None)
@given(round_=ROUNDS)
def test_priority_policy_is_stable_without_justified_envy(round_: Round) -> None:
    problem, candidates, chosen = _by_priority(round_, capped=False)
    assert _blocking_pairs(problem, candidates, chosen) == []
    assert justified_envy(candidates, chosen, problem.priority_key) == 0


@settings(max_examples=100, deadline=None)
@given(round_=ROUNDS)
def test_priority_policy_respects_village_fair_shares(round_: Round) -> None:
    problem, candidates, chosen = _by_priority(round_, capped=True)
    assert np.array_equal(chosen, ComponentSolver("priority", problem, workers=2)(candidates))


@settings(max_examples=100, deadline=None)
@given(round_=ROUNDS, capped=st.booleans())
def test_max_score_per_component_reaches_the_exact_optimum(round_: Round, capped: bool) -> None:
    problem, candidates = _instance(*round_, capped=capped)
    by_component = ComponentSolver("max_score", problem, workers=2)(candidates)
    globally = solve("max_score", problem, candidates)
    _feasible(problem, candidates, by_component)
    total = int(candidates.gain[by_component].sum())
    assert total == int(candidates.gain[globally].sum())
    if len(candidates):
        village = (
            problem.resident_village
            if problem.resident_village is not None
            else np.zeros(problem.n_residents, dtype=np.int32)
        )
        assert total == _milp_optimum(
            candidates,
            problem.n_residents,
            problem.capacity,
            problem.per_resident,
            village,
            problem.village_quota,
        )


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS, regions=st.integers(1, 4))
def test_priority_per_component_is_the_global_allocation(seed: int, regions: int) -> None:
    problem, candidates = _instance(seed, regions, 1, capped=False)
    assert np.array_equal(
        ComponentSolver("priority", problem, workers=1)(candidates),
        solve("priority", problem, candidates),
    )


def test_unchanged_components_are_not_solved_again() -> None:
    problem, candidates = _instance(7, 3, 1, capped=False)
    solver = ComponentSolver("max_score", problem, workers=1)
    first = solver(candidates)
    assert solver.solved == solver.components > 1
    again = solver(candidates)
    assert np.array_equal(first, again)
    assert solver.reused == solver.components and solver.solved == solver.components


def test_better_priority_takes_the_place_under_the_priority_policy() -> None:
    # One slot, wanted by residents 0 (best priority, lower score) and 1: the max-score policy
    # gives it to 1 (one justified-envy pair), the priority policy to 0 (none).
    candidates = Candidates(
        np.array([0, 1], dtype=np.int32),
        np.array([0, 0], dtype=np.int32),
        np.array([50, 90], dtype=np.int64),
        np.zeros((2, 6), np.float32),
        2,
    )
    problem = Problem(2, np.array([1], dtype=np.int32), np.array([1, 5], dtype=np.int64))
    max_score = solve("max_score", problem, candidates)
    priority = solve("priority", problem, candidates)
    assert max_score.tolist() == [False, True]
    assert justified_envy(candidates, max_score, problem.priority_key) == 1
    assert priority.tolist() == [True, False]
    assert justified_envy(candidates, priority, problem.priority_key) == 0


def test_components_solved_in_worker_processes_give_the_same_allocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A round large enough, on a machine with idle cores, ships its components to worker
    # processes; the answer is the same as solving them here.
    problem, candidates = _instance(7, 3, 1, capped=False)
    policies = ("priority", "max_score")
    here = {p: ComponentSolver(p, problem, workers=1)(candidates) for p in policies}
    monkeypatch.setattr(components, "PARALLEL_PAIRS", 1)
    monkeypatch.setattr(components, "_idle_cores", lambda workers: workers)
    for policy, expected in here.items():
        solver = ComponentSolver(policy, problem, workers=2)
        assert np.array_equal(solver(candidates), expected)
        assert solver.solved == solver.components > 1
    assert components.worker_pids()


def test_a_broken_worker_pool_falls_back_to_solving_in_the_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A worker killed by the kernel (out of memory) breaks the pool: the round still ends with
    # the same allocation, solved in its own process, and the broken pool is dropped.
    from concurrent.futures.process import BrokenProcessPool

    problem, candidates = _instance(7, 3, 1, capped=False)
    expected = ComponentSolver("max_score", problem, workers=1)(candidates)

    class Broken:
        def submit(self, *_: object) -> object:
            raise BrokenProcessPool("a worker died")

    monkeypatch.setattr(components, "PARALLEL_PAIRS", 1)
    monkeypatch.setattr(components, "_idle_cores", lambda workers: workers)
    monkeypatch.setitem(components._POOLS, 2, Broken())
    solver = ComponentSolver("max_score", problem, workers=2)
    assert np.array_equal(solver(candidates), expected)
    assert 2 not in components._POOLS


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS, regions=st.integers(1, 4), policy=st.sampled_from(("priority", "max_score")))
def test_a_refill_pass_finds_the_components_from_the_previous_ones(
    seed: int, regions: int, policy: str
) -> None:
    # A refill pass adds pairs to the previous set: its components, found from the previous
    # components and the added pairs, are those of the whole set, and so is the allocation.
    problem, candidates = _instance(seed, regions, 1, capped=False)
    keep = np.random.default_rng(seed).random(len(candidates)) < 0.6
    earlier = Candidates(
        candidates.resident[keep],
        candidates.opportunity[keep],
        candidates.gain[keep],
        candidates.contributions[keep],
        int(keep.sum()),
    )
    solver = ComponentSolver(policy, problem, workers=1)
    solver(earlier)
    grown = solver(candidates, grows=earlier)
    fresh = ComponentSolver(policy, problem, workers=1)
    assert np.array_equal(grown, fresh(candidates))
    assert solver.components == fresh.components
    if len(candidates):
        labels, count = components.component_of_pairs(problem, candidates)
        assert count == fresh.components
        by_growth = solver.partition(candidates).layout.pair_label
        # The same partition of the pairs, whatever the numbering.
        pairs_of = {(int(a), int(b)) for a, b in zip(labels, by_growth, strict=True)}
        assert len(pairs_of) == count == len({b for _, b in pairs_of})


@settings(max_examples=100, deadline=None)
@given(seed=SEEDS, regions=st.integers(1, 3), by_column=st.booleans())
def test_justified_envy_counts_every_pair_passed_over(
    seed: int, regions: int, by_column: bool
) -> None:
    # Either way of counting (a table of each opportunity's few holders, or a search per
    # pair) gives the pairs a direct count finds, for the max-score allocation.
    from services.matching.allocation import engine

    problem, candidates = _instance(seed, regions, 1, capped=False)
    chosen = solve("max_score", problem, candidates)
    key = problem.priority_key
    best = {
        int(r): int(g)
        for r, g in zip(candidates.resident[chosen], candidates.gain[chosen], strict=True)
    }
    expected = sum(
        1
        for a in range(len(candidates))
        if not chosen[a] and candidates.gain[a] > best.get(int(candidates.resident[a]), -1)
        for b in np.flatnonzero(chosen)
        if candidates.opportunity[b] == candidates.opportunity[a]
        and key[candidates.resident[b]] > key[candidates.resident[a]]
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "HOLDERS_BY_COLUMN", 16 if by_column else 0)
        assert justified_envy(candidates, chosen, key) == expected
