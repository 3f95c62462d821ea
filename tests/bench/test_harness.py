"""The benchmark harness itself: its synthetic residents pass the registry's own rules, wrk is
driven and parsed against a real uvicorn process, and a report keeps every figure it prints.
Figures are measured, never asserted: these tests check shapes and counts only."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from bench import harness
from bench.data import residents, villages
from bench.harness import Report, Service, run_wrk, workdir
from services.registry.residents import nik as nik_rules
from services.registry.residents.models import ResidentCreate


def test_synthetic_residents_pass_the_registry_rules() -> None:
    rows = list(residents(3_000, seed=7))
    assert len({row["nik"] for row in rows}) == len(rows)
    for row in rows:
        ResidentCreate.model_validate(row)
        birth = date.fromisoformat(row["birth_date"])
        assert nik_rules.format_problem(row["nik"]) is None
        assert nik_rules.consistency_problem(row["nik"], row["sex"], birth) is None
        assert row["village_code"] in villages()
        assert row["village_code"].startswith("63.02.")


def test_same_seed_same_residents() -> None:
    assert list(residents(50, seed=3)) == list(residents(50, seed=3))
    assert list(residents(50, seed=3)) != list(residents(50, seed=4))


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed (make bench does it)")
def test_wrk_loads_a_real_uvicorn_process(tmp_path: Path) -> None:
    paths = tmp_path / "paths.txt"
    paths.write_text("/residents/a\n/residents/b\n")
    with (
        workdir("test") as work,
        Service("bare", "bench.bare_app:app", {}, work, factory=False, ready_path="/") as bare,
    ):
        result = run_wrk(bare.url + "/", seconds=1, connections=4, threads=1, paths_file=paths)
    assert result.requests > 0
    assert result.requests_per_second > 0
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms


def test_report_writes_what_it_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(harness, "RESULTS_DIR", tmp_path)
    monkeypatch.setattr(harness, "REPO", tmp_path)
    monkeypatch.setattr(harness, "machine", lambda: {"cpu_count": 2})
    report = Report("example", "Example", quick=True, sizes={"rows": 10})
    report.add("fast", seconds=0.5)
    report.add("slow", seconds=2.0)
    report.add_ratio("fast/slow", harness.ratio(0.5, 2.0), goal=0.5)
    path = report.write()
    assert path == tmp_path / "quick" / "example.json"
    document = json.loads(path.read_text())
    assert document["machine"]["cpu_count"] == 2
    assert len(document["load_average_1_5_15_min"]["at_start"]) == 3
    assert document["sizes"] == {"rows": 10}
    assert [row["case"] for row in document["figures"]] == ["fast", "slow"]
    assert document["ratios"]["fast/slow"] == {"value": 0.25, "goal": ">= 0.5", "met": False}
    printed = capsys.readouterr().out
    assert "fast/slow: 0.25" in printed and "NOT met" in printed
