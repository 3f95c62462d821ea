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
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from typing import Any

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
    return _dense(labels[candidates.resident], count)


def _dense(pair_label: NDArray[np.int64], count: int) -> tuple[NDArray[np.int64], int]:
    """Labels renumbered over the components that hold pairs (residents alone are not
    solved)."""
    used = np.zeros(count, dtype=bool)
    used[pair_label] = True
    dense = np.cumsum(used, dtype=np.int64) - 1
    return dense[pair_label], int(used.sum())


def component_of_added_pairs(
    problem: Problem, candidates: Candidates, before: NodeLabels
) -> tuple[NDArray[np.int64], int]:
    """``component_of_pairs`` for a set that holds every pair of the set ``before`` was laid
    out for, and more (a refill pass's union): each earlier component is one node, so only
    the pairs that join two components, or reach a node no component held, make edges (a
    refill adds a few per cent of the pairs). Without fair shares only: a village's quota
    also binds residents who have no pair yet."""
    n, m = problem.n_residents, int(problem.capacity.shape[0])
    count = before.count
    resident_node = before.resident_label[candidates.resident]
    resident_node = np.where(
        resident_node < count, resident_node, count + candidates.resident.astype(np.int64)
    )
    opportunity_node = before.opportunity_label[candidates.opportunity]
    opportunity_node = np.where(
        opportunity_node < count,
        opportunity_node,
        count + n + candidates.opportunity.astype(np.int64),
    )
    joins = resident_node != opportunity_node
    nodes = count + n + m
    graph = coo_matrix(
        (
            np.ones(int(joins.sum()), dtype=np.int8),
            (resident_node[joins], opportunity_node[joins]),
        ),
        shape=(nodes, nodes),
    )
    total, labels = connected_components(graph, directed=False)
    return _dense(labels[resident_node], total)


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


@dataclass(frozen=True)
class NodeLabels:
    """Each resident's and opportunity's component (``count``: in none)."""

    resident_label: NDArray[np.int64]
    opportunity_label: NDArray[np.int64]
    count: int


@dataclass
class Layout:
    """Every component's residents and opportunities numbered from zero, computed once for a
    pass: the nodes of component c are ``*_order[*_starts[c]:*_starts[c + 1]]``."""

    pair_label: NDArray[np.int32]
    resident_order: NDArray[np.int64]
    resident_starts: NDArray[np.int64]
    local_resident: NDArray[np.int32]
    opportunity_order: NDArray[np.int64]
    opportunity_starts: NDArray[np.int64]
    local_opportunity: NDArray[np.int32]
    nodes: NodeLabels

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
            # 32 bits: a label and an index per pair, of millions of pairs.
            pair_label.astype(np.int32),
            r_order,
            r_starts,
            r_rank[resident],
            o_order,
            o_starts,
            o_rank[opportunity],
            NodeLabels(r_label, o_label, count),
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


def _cpu_times() -> tuple[int, int]:
    """All CPUs' (total, idle) time so far, in clock ticks (Linux's ``/proc/stat``)."""
    with open("/proc/stat") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    return sum(fields), fields[3] + fields[4]  # idle and iowait


# How long the round looks at the machine before it decides to ship its components.
IDLE_SAMPLE_SECONDS = 0.1


def _idle_cores(workers: int) -> int:
    """How many of ``workers`` cores are idle: on a machine whose cores other processes keep
    busy, worker processes only add their start-up and copying. Measured while this process
    sleeps, because it waits while the workers solve: its own core is theirs too (a load
    average would count this process, and the workers of its previous pass, as busy)."""
    if workers <= 1:
        return workers
    try:
        total, idle = _cpu_times()
        time.sleep(IDLE_SAMPLE_SECONDS)
        total_after, idle_after = _cpu_times()
    except (OSError, ValueError, IndexError):  # not Linux
        return workers
    if total_after <= total:
        return workers
    cores = os.cpu_count() or workers
    free = cores * (idle_after - idle) / (total_after - total)
    return max(1, min(workers, int(free + 0.5)))


def worker_pids() -> list[int]:
    """The live worker processes of the pools (for a benchmark's memory figures)."""
    return [pid for pool in _POOLS.values() for pid in getattr(pool, "_processes", None) or {}]


def _workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _in_flight(workers: int) -> int:
    """Components queued to the workers at once: enough that none waits for the next, few
    enough that the parent does not hold every component's copy at the same time."""
    return 2 * workers


@dataclass
class Partition:
    """A candidate set cut into its components, computed once per set: both policies (the
    round's and the other one's dry run) solve the same final set."""

    candidates: Candidates
    order: NDArray[Any]  # int32 below two billion pairs
    bounds: NDArray[np.int64]
    layout: Layout

    @property
    def count(self) -> int:
        return int(self.bounds.shape[0]) - 1

    @classmethod
    def of(
        cls, problem: Problem, candidates: Candidates, grown_from: NodeLabels | None = None
    ) -> Partition:
        """``grown_from``: the components of a set all of whose pairs ``candidates`` holds."""
        if grown_from is not None and not problem.capped:
            labels, count = component_of_added_pairs(problem, candidates, grown_from)
        else:
            labels, count = component_of_pairs(problem, candidates)
        m = max(1, int(problem.capacity.shape[0]))
        keys = candidates.resident.astype(np.int64) * m + candidates.opportunity
        if keys.shape[0] < 2 or bool(np.all(keys[1:] > keys[:-1])):
            # Pairs already sorted by (resident, opportunity), as a round's are: a stable
            # sort of the labels alone, in the narrowest integer type (a radix sort for
            # 16 bits), gives the (component, pair) order.
            narrow = labels.astype(np.int16) if count < 2**15 else labels
            order = np.argsort(narrow, kind="stable")
        else:
            # One sort of an int64 (component, pair) key: cheaper than a lexsort of two.
            order = np.argsort(labels * (max(1, problem.n_residents) * m) + keys)
        del keys
        bounds = np.searchsorted(labels[order], np.arange(count + 1))
        if order.shape[0] < 2**31:
            order = order.astype(np.int32)
        return cls(candidates, order, bounds, Layout.of(problem, candidates, labels))


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
    _partition: Partition | None = None

    def partition(self, candidates: Candidates, grows: Candidates | None = None) -> Partition:
        found = self._partition
        if found is None or found.candidates is not candidates:
            grown_from = (
                found.layout.nodes if found is not None and found.candidates is grows else None
            )
            # The previous set's partition is let go before the next is built.
            self._partition = found = None
            found = self._partition = Partition.of(self.problem, candidates, grown_from)
        return found

    def __call__(
        self, candidates: Candidates, *, grows: Candidates | None = None
    ) -> NDArray[np.bool_]:
        """The chosen pairs. ``grows``: the set of the previous call, when ``candidates``
        holds all its pairs (a refill's union), so that components are found from the
        previous ones and the added pairs."""
        chosen = np.zeros(len(candidates), dtype=bool)
        if len(candidates) == 0:
            return chosen
        part = self.partition(candidates, grows)
        order, bounds = part.order, part.bounds
        m = max(1, int(self.problem.capacity.shape[0]))
        self.components = part.count
        answers: dict[bytes, NDArray[np.bool_]] = {}
        todo: list[tuple[bytes, NDArray[np.int64]]] = []
        for c in range(part.count):
            pairs = order[bounds[c] : bounds[c + 1]]
            keys = candidates.resident[pairs].astype(np.int64) * m + candidates.opportunity[pairs]
            digest = hashlib.blake2b(keys.tobytes(), digest_size=16).digest()
            known = self._answers.get(digest)
            if known is not None:
                chosen[pairs] = known
                answers[digest] = known
                self.reused += 1
            else:
                todo.append((digest, pairs))

        def local(item: tuple[bytes, NDArray[np.int64]]) -> tuple[str, Problem, Candidates]:
            return (self.policy, *local_problem(self.problem, candidates, item[1], part.layout))

        # The largest first, so that a worker is not left with the longest one at the end.
        todo.sort(key=lambda item: -item[1].shape[0])
        pending = sum(item[1].shape[0] for item in todo)
        results: list[NDArray[np.bool_]] | None = None
        if len(todo) > 1 and pending >= PARALLEL_PAIRS and _idle_cores(self.workers) > 1:
            try:
                results = _in_workers(self.workers, (local(item) for item in todo))
            except (BrokenProcessPool, OSError):
                # A worker killed (out of memory) or no room for the fork server's socket:
                # the round still ends, solving in its own process, and the next round starts
                # a new pool.
                _POOLS.pop(self.workers, None)
        if results is None:
            results = [_solve_local(local(item)) for item in todo]
        for (digest, pairs), answer in zip(todo, results, strict=True):
            chosen[pairs] = answer
            answers[digest] = answer
        self.solved += len(todo)
        # Only the current components can come back unchanged in the next pass.
        self._answers = answers
        return chosen

    def with_policy(self, policy: str) -> ComponentSolver:
        """The other policy's solver over the same problem; it keeps the partition of the
        last candidate set (the same pairs make the same components)."""
        return replace(self, policy=policy, solved=0, reused=0, components=0, _answers={})


def _in_workers(
    workers: int, jobs: Iterator[tuple[str, Problem, Candidates]]
) -> list[NDArray[np.bool_]]:
    """Each job solved in the pool, in order. Jobs are renumbered and shipped a few at a time
    as the workers take them: the workers start on the largest while the parent prepares the
    rest, and the parent never holds all the components' copies at once."""
    pool = _pool(workers)
    futures: list[Future[NDArray[np.bool_]]] = []
    running: set[Future[NDArray[np.bool_]]] = set()
    for job in jobs:
        if len(running) >= _in_flight(workers):
            _, running = wait(running, return_when=FIRST_COMPLETED)
        future = pool.submit(_solve_local, job)
        futures.append(future)
        running.add(future)
    return [future.result() for future in futures]
