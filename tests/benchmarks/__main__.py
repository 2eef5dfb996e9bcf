"""Run benchmarks: ``python -m tests.benchmarks [--dry-run] [name ...]`` (default: all).

Each benchmark prints its ratios against a baseline measured in the same run
and writes them to tests/benchmarks/results/<name>.json.

One benchmark runs in this process. Several run one after the other, each in a
Python process of its own: a benchmark parses Odoo's configuration and loads a
registry, which consumes one-shot options (``load_language``), so a second
``parse_config`` in the same process fails. With ``--dry-run`` each process only
imports its benchmark module and says which process it is; nothing is measured.
"""

import importlib
import os
import subprocess
import sys

BENCHMARKS = ("audit", "queue", "inventory", "procurement", "brokers")


def run_one(name, dry_run=False):
    """Run the benchmark ``name`` in this process."""
    module = importlib.import_module(f"tests.benchmarks.bench_{name}")
    if dry_run:
        print(f"{name}: {module.__name__} imported in process {os.getpid()}", flush=True)
        return
    module.main()


def run_each_in_own_process(names, dry_run=False):
    """Run each benchmark in a child process; return the names that failed."""
    failed = []
    for name in names:
        command = [
            sys.executable,
            "-m",
            "tests.benchmarks",
            *(["--dry-run"] if dry_run else []),
            name,
        ]
        print("+ " + " ".join(command), flush=True)
        if subprocess.run(command, check=False).returncode != 0:
            failed.append(name)
    return failed


def main(argv):
    dry_run = "--dry-run" in argv
    names = [arg for arg in argv if arg != "--dry-run"] or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(BENCHMARKS)}")
    if len(names) == 1:
        run_one(names[0], dry_run)
        return
    failed = run_each_in_own_process(names, dry_run)
    if failed:
        sys.exit(f"benchmarks failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
