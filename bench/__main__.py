"""``python -m bench [--quick] [name ...]``: run the benchmarks (all by default) one after the
other, each printing its table and writing ``bench/results/[quick/]<name>.json``."""

from __future__ import annotations

import argparse
import importlib
import sys
import traceback

from bench.harness import Stopwatch, ensure_wrk, machine

BENCHMARKS = ("api_path", "imports", "matching", "reporting", "feeds")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (under two minutes)")
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(BENCHMARKS))
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    ensure_wrk()
    names = args.names or list(BENCHMARKS)
    info = machine()
    print(
        f"machine: {info['cpu_count']} cores, {info['platform']}, Python {info['python']}, "
        f"PostgreSQL {info['postgres']}\n",
        flush=True,
    )
    failed: list[str] = []
    total = Stopwatch()
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        try:
            module.run(quick=args.quick)
        except Exception:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            failed.append(name)
    print(f"{len(names) - len(failed)}/{len(names)} benchmarks ran in {total.seconds:.0f} s")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
