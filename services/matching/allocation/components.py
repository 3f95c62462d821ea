"""Solving a round per connected component of its candidate graph.

Offers never reach beyond a regency, so the bipartite graph of residents and opportunities
(and, with fair shares, the villages that cap their residents) falls apart into independent
components. Both policies decide each component on its own: the optimum of a min-cost flow is
the sum of its components' optima, and deferred acceptance never lets one component's
proposals touch another's. Components are solved in parallel where the machine has the cores,
and a refill pass re-solves only the components whose pairs changed.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from services.matching.allocation.deferred import deferred_acceptance
from services.matching.allocation.engine import Candidates, allocate

POLICIES = ("priority", "max_score")


@dataclass(frozen=True)
class Problem:
    """What constrains a round besides its candidate pairs."""

    n_residents: int
    capacity: NDArray[np.int32]
    priority_key: NDArray[np.int64]
    per_resident: int = 1
    resident_village: NDArray[np.int32] | None = None
    village_quota: NDArray[np.int64] | None = None

    @property
    def capped(self) -> bool:
        return self.village_quota is not None and self.resident_village is not None


def solve(policy: str, problem: Problem, candidates: Candidates) -> NDArray[np.bool_]:
    """The chosen pairs of one (global or component) problem under ``policy``."""
    if policy == "max_score":
        return allocate(
            problem.n_residents,
            problem.capacity,
            candidates,
            per_resident=problem.per_resident,
            resident_village=problem.resident_village,
            village_quota=problem.village_quota,
        )
    if policy == "priority":
        return deferred_acceptance(
            problem.n_residents,
            problem.capacity,
            candidates,
            problem.priority_key,
            per_resident=problem.per_resident,
            resident_village=problem.resident_village,
            village_quota=problem.village_quota,
        )
    raise ValueError(f"unknown policy {policy!r}; known: {', '.join(POLICIES)}")


def component_of_pairs(problem: Problem, candidates: Candidates) -> tuple[NDArray[np.int64], int]:
    """Each pair's component label and the number of components."""
    n, m = problem.n_residents, int(problem.capacity.shape[0])
    tails = [candidates.resident.astype(np.int64)]
    heads = [n + candidates.opportunity.astype(np.int64)]
    nodes = n + m
    if problem.capped:
        assert problem.resident_village is not None and problem.village_quota is not None
        # A village's quota binds all its residents together.
        tails.append(np.arange(n, dtype=np.int64))
        heads.append(nodes + problem.resident_village.astype(np.int64))
        nodes += int(problem.village_quota.shape[0])
    row, column = np.concatenate(tails), np.concatenate(heads)
    graph = coo_matrix((np.ones(row.shape[0], dtype=np.int8), (row, column)), shape=(nodes, nodes))
    count, labels = connected_components(graph, directed=False)
    pair_label = labels[candidates.resident]
    # Dense labels over the components that hold pairs (residents alone are not solved).
    used = np.zeros(count, dtype=bool)
    used[pair_label] = True
    dense = np.cumsum(used, dtype=np.int64) - 1
    return dense[pair_label], int(used.sum())


def local_problem(
    problem: Problem,
    candidates: Candidates,
    pairs: NDArray[np.int64],
    layout: Layout,
) -> tuple[Problem, Candidates]:
    """The component of ``pairs`` with residents, opportunities and villages renumbered, as
    ``layout`` numbers every component's nodes at once."""
    residents = layout.residents_of(pairs)
    opportunities = layout.opportunities_of(pairs)
    local_resident = layout.local_resident[pairs]
    local_opportunity = layout.local_opportunity[pairs]
    village = quota = None
    if problem.capped:
        assert problem.resident_village is not None and problem.village_quota is not None
        villages, local_village = np.unique(
            problem.resident_village[residents], return_inverse=True
        )
        village = local_village.astype(np.int32)
        quota = problem.village_quota[villages]
    local = Problem(
        n_residents=int(residents.shape[0]),
        capacity=problem.capacity[opportunities],
        priority_key=problem.priority_key[residents],
        per_resident=problem.per_resident,
        resident_village=village,
        village_quota=quota,
    )
    sub = Candidates(
        local_resident.astype(np.int32, copy=False),
        local_opportunity.astype(np.int32, copy=False),
        candidates.gain[pairs],
        # The solvers read no contributions: an empty view keeps the copy small.
        np.empty((pairs.shape[0], 0), dtype=np.float32),
        0,
    )
    return local, sub


def _rank_within(
    label: NDArray[np.int64], used: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int32]]:
    """For the used nodes, sorted by (label, node): the nodes in that order, where each
    label's run starts, and each used node's rank within its label (as ``np.unique`` would
    number a component's nodes)."""
    ids = np.flatnonzero(used)
    order = ids[np.argsort(label[ids], kind="stable")]  # ids ascending, so node order within
    run_label = label[order]
    starts = np.searchsorted(run_label, np.arange(int(label.max(initial=-1)) + 2))
    rank = np.zeros(used.shape[0], dtype=np.int32)
    rank[order] = (np.arange(order.shape[0]) - starts[run_label]).astype(np.int32)
    return order, starts, rank


@dataclass
class Layout:
    """Every component's residents and opportunities numbered from zero, computed once for a
    pass: the nodes of component c are ``*_order[*_starts[c]:*_starts[c + 1]]``."""

    pair_label: NDArray[np.int64]
    resident_order: NDArray[np.int64]
    resident_starts: NDArray[np.int64]
    local_resident: NDArray[np.int32]
    opportunity_order: NDArray[np.int64]
    opportunity_starts: NDArray[np.int64]
    local_opportunity: NDArray[np.int32]

    @classmethod
    def of(cls, problem: Problem, candidates: Candidates, pair_label: NDArray[np.int64]) -> Layout:
        n, m = problem.n_residents, int(problem.capacity.shape[0])
        resident = candidates.resident
        opportunity = candidates.opportunity
        count = int(pair_label.max(initial=-1)) + 1
        # A node's component is that of any of its pairs.
        r_label = np.full(n, count, dtype=np.int64)
        r_label[resident] = pair_label
        o_label = np.full(m, count, dtype=np.int64)
        o_label[opportunity] = pair_label
        r_order, r_starts, r_rank = _rank_within(r_label, r_label < count)
        o_order, o_starts, o_rank = _rank_within(o_label, o_label < count)
        return cls(
            pair_label, r_order, r_starts, r_rank[resident], o_order, o_starts, o_rank[opportunity]
        )

    def residents_of(self, pairs: NDArray[np.int64]) -> NDArray[np.int64]:
        c = int(self.pair_label[pairs[0]])
        return self.resident_order[self.resident_starts[c] : self.resident_starts[c + 1]]

    def opportunities_of(self, pairs: NDArray[np.int64]) -> NDArray[np.int64]:
        c = int(self.pair_label[pairs[0]])
        return self.opportunity_order[self.opportunity_starts[c] : self.opportunity_starts[c + 1]]


# Below this many pairs in a pass, shipping components to worker processes costs more than
# it saves. OR-Tools holds the GIL while it solves, so threads would not run two at once.
PARALLEL_PAIRS = 400_000


def _solve_local(job: tuple[str, Problem, Candidates]) -> NDArray[np.bool_]:
    return solve(*job)


_POOLS: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """A pool kept for the process's life: its workers are forked from a small server that
    has imported the solvers, not from the round's process with its gigabytes of arrays."""
    found = _POOLS.get(workers)
    if found is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        found = _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=context)
    return found


def _idle_cores(workers: int) -> int:
    """How many of ``workers`` cores are idle: on a machine whose cores are already busy
    (load average at or above them), worker processes only add their start-up and copying."""
    if workers <= 1:
        return workers
    try:
        busy = os.getloadavg()[0]
    except OSError:  # not available
        return workers
    return max(1, min(workers, int(workers - busy + 0.5)))


def worker_pids() -> list[int]:
    """The live worker processes of the pools (for a benchmark's memory figures)."""
    return [pid for pool in _POOLS.values() for pid in getattr(pool, "_processes", None) or {}]


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class ComponentSolver:
    """One policy's solver over a round's components, remembering each component's answer by
    its pairs, so that a refill pass solves only the components it changed."""

    policy: str
    problem: Problem
    workers: int = field(default_factory=_workers)
    solved: int = 0
    reused: int = 0
    components: int = 0
    _answers: dict[bytes, NDArray[np.bool_]] = field(default_factory=dict)

    def __call__(self, candidates: Candidates) -> NDArray[np.bool_]:
        chosen = np.zeros(len(candidates), dtype=bool)
        if len(candidates) == 0:
            return chosen
        labels, count = component_of_pairs(self.problem, candidates)
        m = max(1, int(self.problem.capacity.shape[0]))
        keys = candidates.resident.astype(np.int64) * m + candidates.opportunity
        # One sort of an int64 (component, pair) key: cheaper than a lexsort of two columns.
        order = np.argsort(labels * (max(1, self.problem.n_residents) * m) + keys)
        bounds = np.searchsorted(labels[order], np.arange(count + 1))
        self.components = count
        answers: dict[bytes, NDArray[np.bool_]] = {}
        todo: list[tuple[bytes, NDArray[np.int64]]] = []
        for c in range(count):
            pairs = order[bounds[c] : bounds[c + 1]]
            digest = hashlib.blake2b(keys[pairs].tobytes(), digest_size=16).digest()
            known = self._answers.get(digest)
            if known is not None:
                chosen[pairs] = known
                answers[digest] = known
                self.reused += 1
            else:
                todo.append((digest, pairs))

        layout = Layout.of(self.problem, candidates, labels)

        def local(item: tuple[bytes, NDArray[np.int64]]) -> tuple[str, Problem, Candidates]:
            return (self.policy, *local_problem(self.problem, candidates, item[1], layout))

        # The largest first, so that a worker is not left with the longest one at the end.
        todo.sort(key=lambda item: -item[1].shape[0])
        pending = sum(item[1].shape[0] for item in todo)
        if len(todo) > 1 and pending >= PARALLEL_PAIRS and _idle_cores(self.workers) > 1:
            # Each component is shipped as it is renumbered, so the workers start on the
            # largest while the parent prepares the rest.
            try:
                results = list(
                    _pool(self.workers).map(_solve_local, (local(item) for item in todo))
                )
            except (BrokenProcessPool, OSError):
                # A worker killed (out of memory) or no room for the fork server's socket:
                # the round still ends, solving in its own process, and the next round starts
                # a new pool.
                _POOLS.pop(self.workers, None)
                results = [_solve_local(local(item)) for item in todo]
        else:
            results = [_solve_local(local(item)) for item in todo]
        for (digest, pairs), answer in zip(todo, results, strict=True):
            chosen[pairs] = answer
            answers[digest] = answer
        self.solved += len(todo)
        # Only the current components can come back unchanged in the next pass.
        self._answers = answers
        return chosen

    def with_policy(self, policy: str) -> ComponentSolver:
        return replace(self, policy=policy, solved=0, reused=0, components=0, _answers={})
