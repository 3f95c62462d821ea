"""The programme's shared vocabulary: one education ladder for every service."""

from __future__ import annotations

from shared.programme.education import EDUCATION_LEVELS, education_rank


def test_the_ladder_ranks_every_level_above_the_one_before() -> None:
    ranks = [education_rank(level) for level in EDUCATION_LEVELS]
    assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def test_postgraduate_meets_a_bachelor_minimum() -> None:
    # Matching's own copy of the ladder had no "postgraduate" and ranked it as no schooling.
    assert education_rank("postgraduate") > education_rank("bachelor")


def test_unknown_or_missing_counts_as_no_schooling() -> None:
    assert education_rank(None) == education_rank("none") == education_rank("kindergarten") == 0
