"""The fresh path of ``make run`` / ``make test``, proven without network.

In a copy of the repository in a temporary folder, inside a network namespace
with only the loopback (``unshare -n``, as root): bootstrap ``.venv`` with
ODOO_SOURCE = the source of the Odoo running these tests, pip installing from a
local wheelhouse only; start the embedded PostgreSQL; install integration_queue;
answer a signed ping. The wheelhouse is filled with network before, from the
lock file, and cached in ``.local/wheelhouse`` so a second run downloads nothing.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Measured on the 2-core machine while other test runs shared it: about 2 min for the
# bootstrap, 2 min to install integration_queue, under 1 min for the rest.
BUDGET_SECONDS = 420
COPIED = ("addons", "tests", "Makefile", "requirements.txt", "requirements-lock.txt")


def odoo_source():
    """The source tree of the Odoo these tests run with; fail (never skip) without one."""
    import odoo  # noqa: PLC0415

    source = Path(odoo.__file__).resolve().parent.parent
    missing = [
        name
        for name in ("odoo-bin", "setup.py", "requirements.txt")
        if not (source / name).exists()
    ]
    if missing:
        pytest.fail(
            f"the Odoo running the tests ({source}) is not a source tree "
            f"(no {', '.join(missing)}); "
            "this test bootstraps .venv from that source: run the tests with an Odoo installed "
            "from its sources (pip install -e), as make test's .venv does."
        )
    return source


def require_namespace_tools():
    if os.geteuid() != 0:
        pytest.fail(
            "this test makes a network namespace with unshare -n and needs root (as in CI)."
        )
    for tool in ("unshare", "ip"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is missing: install util-linux and iproute2.")


def copy_repository(target):
    target.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", ".local")
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)


def fill_wheelhouse(repo_copy, source, wheelhouse):
    """With network: the wheels the offline install needs, once (cached across runs)."""
    env = dict(
        os.environ,
        ODOO_SOURCE=str(source),
        HCSC_WHEELHOUSE=str(wheelhouse),
        HCSC_BOOTSTRAP_PYTHON=sys.executable,
    )
    subprocess.run(
        [sys.executable, "-m", "tests.harness.bootstrap", "wheelhouse"],
        cwd=repo_copy,
        env=env,
        check=True,
        timeout=1200,
    )


def test_bootstrap_embedded_postgres_and_signed_ping_without_network():
    source = odoo_source()
    require_namespace_tools()
    workdir = Path(tempfile.mkdtemp(prefix="hcsc-fresh-"))
    # PostgreSQL runs as nobody when we are root: it must reach its data folder.
    workdir.chmod(0o755)
    repo_copy = workdir / "repo"
    try:
        copy_repository(repo_copy)
        wheelhouse = REPO / ".local" / "wheelhouse"
        started = time.monotonic()
        fill_wheelhouse(repo_copy, source, wheelhouse)
        wheelhouse_seconds = time.monotonic() - started
        script = (
            "set -e; ip link set lo up; "
            # proof that nothing outside the machine can be reached from here
            "if python3 -c 'import socket; socket.create_connection((\"1.1.1.1\", 443), 3)' "
            "2>/dev/null; then echo 'network reachable'; exit 97; fi; "
            'exec "$@"'
        )
        started = time.monotonic()
        completed = subprocess.run(
            [
                "unshare",
                "--net",
                "bash",
                "-c",
                script,
                "fresh",
                sys.executable,
                "-m",
                "tests.e2e.fresh_bootstrap_steps",
                str(source),
                str(wheelhouse),
            ],
            cwd=repo_copy,
            env=dict(os.environ, HCSC_BOOTSTRAP_PYTHON=sys.executable),
            capture_output=True,
            text=True,
            timeout=BUDGET_SECONDS + 120,
            check=False,
        )
        offline_seconds = time.monotonic() - started
        output = completed.stdout + completed.stderr
        result_lines = [
            line for line in completed.stdout.splitlines() if line.startswith("RESULT ")
        ]
        assert completed.returncode == 0 and result_lines, output[-6000:]
        result = json.loads(result_lines[-1].removeprefix("RESULT "))
        print(
            f"wheelhouse {wheelhouse_seconds:.0f}s, offline run {offline_seconds:.0f}s: "
            f"{result['timings']}"
        )
        assert result["ping_status"] == 202, result
        assert result["final_state"] == "done", result
        assert offline_seconds < BUDGET_SECONDS, result["timings"]
        assert (repo_copy / ".venv" / "bin" / "odoo").exists()
        assert not (repo_copy / ".local" / "postgresql" / "data" / "postmaster.pid").exists(), (
            "the embedded PostgreSQL is still running"
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _names(path):
    """Normalised project names a requirements file asks for."""
    from packaging.requirements import Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    names = set()
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate():
            names.add(canonicalize_name(requirement.name))
    return names


def _pins(section):
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    from tests.harness import bootstrap  # noqa: PLC0415

    lines = bootstrap.lock_section(section).read_text().splitlines()
    return {
        canonicalize_name(line.split("==")[0]): line.split("==")[1]
        for line in lines
        if "==" in line and not line.startswith("#")
    }


def test_lock_pins_every_requirement_of_the_project():
    """A requirement added without regenerating requirements-lock.txt fails here."""
    from tests.harness import bootstrap  # noqa: PLC0415

    runtime = _pins("runtime")
    wanted = set()
    for name in (*bootstrap.PROJECT_REQUIREMENTS, "tests/benchmarks/requirements.txt"):
        wanted |= _names(REPO / name)
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == bootstrap.locked_python():
        odoo_file = bootstrap.odoo_requirements(odoo_source(), bootstrap.locked_python())
        wanted |= _names(odoo_file)
    wanted |= {"pgserver", "setuptools", "wheel"}
    assert not wanted - set(runtime), (
        f"not pinned in {bootstrap.LOCK.name}: {sorted(wanted - set(runtime))}; regenerate it "
        "(README, Pinned versions)"
    )
    assert "psycopg2" not in runtime and "python-ldap" not in runtime


def test_lock_pins_the_lint_tools_of_pre_commit():
    import re  # noqa: PLC0415

    lint = _pins("lint")
    config = (REPO / ".pre-commit-config.yaml").read_text()
    for name, version in re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', config):
        assert lint.get(name.lower().replace("_", "-")) == version, (name, version)


def test_failed_download_says_which_variable_to_set(tmp_path):
    from tests.harness import bootstrap  # noqa: PLC0415

    missing = tmp_path / "no-such-odoo.tar.gz"
    with pytest.raises(SystemExit) as stop:
        bootstrap.resolve_source(f"file://{missing}")
    assert "set ODOO_SOURCE" in str(stop.value)
