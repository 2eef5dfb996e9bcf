"""Run benchmarks: ``python -m tests.benchmarks [name ...]`` (default: all).

Each benchmark prints its ratios against a baseline measured in the same run
and writes them to tests/benchmarks/results/<name>.json.
"""

import importlib
import sys

BENCHMARKS = ("audit", "queue", "inventory", "procurement")


def main(names):
    for name in names or BENCHMARKS:
        if name not in BENCHMARKS:
            sys.exit(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
        importlib.import_module(f"tests.benchmarks.bench_{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
