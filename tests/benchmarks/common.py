"""Helpers shared by the benchmarks: a throwaway database, an in-process registry."""

import contextlib
import json
import platform
import subprocess
import time
import uuid
from pathlib import Path

from tests.harness import odoo_env

RESULTS = Path(__file__).resolve().parent / "results"
BENCH_ADDONS = Path(__file__).resolve().parent / "addons"


@contextlib.contextmanager
def bench_database(modules, prefix, extra_addons=()):
    """Create a database with ``modules`` (no demo data), yield its name, drop it."""
    odoo_env.check_odoo()
    odoo_env.check_postgres()
    name = f"hcsc_bench_{prefix}_{uuid.uuid4().hex[:6]}"
    subprocess.run(
        odoo_env.odoo_command(
            f"--addons-path={odoo_env.addons_path(*extra_addons)}",
            f"--database={name}",
            "-i",
            ",".join(modules),
            "--without-demo=all",
            "--stop-after-init",
            "--max-cron-threads=0",
            "--log-level=warn",
            *odoo_env.db_options(),
        ),
        check=True,
    )
    try:
        yield name
    finally:
        odoo_env.drop_database(name)


def load_registry(dbname):
    """Parse Odoo's configuration for ``dbname`` and return its registry."""
    import odoo  # noqa: PLC0415
    from odoo.modules.registry import Registry  # noqa: PLC0415

    odoo.tools.config.parse_config(
        [
            f"--addons-path={odoo_env.addons_path()}",
            f"--database={dbname}",
            "--log-level=warn",
            *odoo_env.db_options(),
        ]
    )
    return Registry(dbname)


def timed(func, *args):
    start = time.perf_counter()
    func(*args)
    return time.perf_counter() - start


def record(name, figures):
    """Write the figures with the machine they were taken on."""
    RESULTS.mkdir(exist_ok=True)
    figures = dict(
        figures,
        machine=f"{platform.machine()} {platform.processor() or ''}".strip(),
        python=platform.python_version(),
        measured_at=time.strftime("%Y-%m-%d %H:%M:%S"),
    )
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    return figures
