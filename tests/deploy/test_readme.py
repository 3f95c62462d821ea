"""deploy/README.md answers the issue's questions and leaves the bench figures to be filled."""

from __future__ import annotations

import re

from tests.deploy.support import DEPLOY, REPO

README = (DEPLOY / "README.md").read_text()


def test_the_readme_answers_each_question() -> None:
    headings = re.findall(r"^#+ (.+)$", README, re.M)
    for heading in (
        "One server: Docker Compose",
        "Kubernetes",
        "Rotating the signing key",
        "Back up and restore",
        "Scaling past one regency",
        "Verified here, and not",
    ):
        assert heading in headings
    for step in (
        "Stateless replicas",
        "rate limit in Redis",
        "Read replicas for reporting",
        "Matching partitioned by district or regency",
        "Citus, distributed by region code",
    ):
        assert step in README
    assert "GATEWAY_VERIFICATION_KEY_FILES" in README
    assert "pg_dump" in README and "ScheduledBackup" in README
    # The image and the stack were run for real (make image-test), and the README says so.
    assert "make image-test" in README


def test_the_bench_table_is_marked_and_left_for_real_figures() -> None:
    start = README.index("<!-- BENCH FIGURES")
    end = README.index("<!-- END BENCH FIGURES -->")
    table = README[start:end]
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) >= 6  # the header and a row per measurement
    benchmarks = set(re.findall(r"\(`(\w+)`\)", table))
    assert benchmarks
    for name in benchmarks:
        assert (REPO / "bench" / f"{name}.py").exists() or name in (
            (REPO / "bench" / "__main__.py").read_text()
        ), name


def test_paths_the_readme_names_exist() -> None:
    for path in set(re.findall(r"(deploy/[\w./-]+\.(?:yaml|sh|example|md))", README)):
        assert (REPO / path).exists(), path
    for directory in ("deploy/k8s/base", "deploy/k8s/overlays/production"):
        assert directory in README and (REPO / directory / "kustomization.yaml").exists()
