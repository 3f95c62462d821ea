"""``python -m bench.summary``: the latest full results (``bench/results/*.json``) as the
Markdown tables of bench/README.md's "Latest figures", so the README quotes the files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.__main__ import BENCHMARKS
from bench.harness import RESULTS_DIR


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def table(document: dict[str, Any]) -> str:
    rows = document["figures"]
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    load = document.get("load_average_1_5_15_min", {}).get("at_start")
    lines = [
        f"### {document['title']}",
        "",
        f"Run {document['generated_at']}; load average at start "
        f"{_cell(load) if load else 'not recorded'}. "
        "Sizes: " + ", ".join(f"{k} {_cell(v)}" for k, v in document["sizes"].items()) + ".",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(_cell(row.get(c, "")) for c in columns) + " |" for row in rows]
    lines.append("")
    for name, entry in document["ratios"].items():
        goal = (
            f" (goal {entry['goal']}: {'met' if entry['met'] else 'not met'})"
            if "goal" in entry
            else ""
        )
        lines.append(f"- ratio **{name}**: {_cell(entry['value'])}{goal}")
    return "\n".join(lines) + "\n"


def main() -> None:
    machines = set()
    for name in BENCHMARKS:
        path = Path(RESULTS_DIR / f"{name}.json")
        if not path.exists():
            print(f"### {name}\n\nNo result yet: run `make bench`.\n")
            continue
        document = json.loads(path.read_text())
        info = document["machine"]
        machines.add(
            f"{info['cpu_count']} cores ({info['processor']}), {info['platform']}, "
            f"Python {info['python']}, PostgreSQL {info['postgres']}"
        )
        print(table(document))
    for machine in sorted(machines):
        print(f"Machine: {machine}.")


if __name__ == "__main__":
    main()
