"""The project's commands: ``run``, ``test``, ``test-repeat`` and ``bench`` (see the Makefile).

Each stops at once, with one sentence, when Odoo or PostgreSQL is missing.
"""

import argparse
import atexit
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from . import bootstrap, demo_secrets, embedded_pg, odoo_env

DEMO_DB = os.environ.get("HCSC_DB", "hcsc_demo")
PYTEST_SUMMARY = re.compile(r"\d+ (passed|failed|error)\S* .*in [\d.]+s")


# Addon wheels depend on "odoo", whose metadata asks for psycopg2 where the
# bootstrap installs psycopg2-binary: these files go in without dependencies.
NO_DEPS_REQUIREMENTS = ("tests/benchmarks/requirements.txt",)


def pip_install(*requirement_files):
    """pip install requirement files, every version pinned by the lock's runtime section."""
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    base.append(f"--constraint={bootstrap.lock_section('runtime')}")
    if bootstrap.wheelhouse_dir().is_dir():
        base.append(f"--find-links={bootstrap.wheelhouse_dir()}")
    groups = [
        [path for path in requirement_files if path not in NO_DEPS_REQUIREMENTS],
        [path for path in requirement_files if path in NO_DEPS_REQUIREMENTS],
    ]
    for paths, options in zip(groups, ([], ["--no-deps"]), strict=True):
        if not paths:
            continue
        command = base + options
        for path in paths:
            command += ["-r", str(odoo_env.REPO / path)]
        print("+ " + " ".join(command), flush=True)
        subprocess.run(command, check=True)


def ensure_odoo():
    """Continue in an interpreter that imports Odoo 18.0: this one, or .venv's (made if needed)."""
    python = bootstrap.ensure_odoo()
    # not resolved: .venv/bin/python is a symlink to the Python it was made with
    if python.absolute() != Path(sys.executable).absolute() and not os.environ.get(
        "HCSC_BOOTSTRAPPED"
    ):
        print(f"Continuing with {python}.", flush=True)
        os.chdir(odoo_env.REPO)
        os.environ["HCSC_BOOTSTRAPPED"] = "1"
        os.execv(python, [str(python), "-m", "tests.harness.cli", *sys.argv[1:]])
    return odoo_env.check_odoo()


def ensure_postgres(keep_running):
    """Use the PostgreSQL the PG* settings reach, else start the embedded one.

    The embedded server is stopped at exit unless ``keep_running`` (``make run``)
    or an earlier command started it.
    """
    problem = odoo_env.postgres_problem()
    if problem is None:
        return "PostgreSQL reachable"
    if os.environ.get("HCSC_EMBEDDED_PG") == "0":
        odoo_env.check_postgres()
    print(f"No PostgreSQL reachable ({problem}).", flush=True)
    state = embedded_pg.start()
    os.environ.update(embedded_pg.environment(state))
    print(embedded_pg.describe(state), flush=True)
    if state["started_here"] and not keep_running:
        atexit.register(embedded_pg.stop)
    odoo_env.check_postgres()
    return f"embedded PostgreSQL on 127.0.0.1:{state['port']}"


def preflight(keep_postgres=False):
    """Odoo 18.0 and PostgreSQL, installed or started when missing; say which are used."""
    version = ensure_odoo()
    where = ensure_postgres(keep_postgres)
    print(f"Odoo {version} from {sys.executable}; {where}.", flush=True)


# the names Odoo's HttpCase looks for on Linux (odoo/tests/common.py, _find_executable)
CHROME_NAMES = ("google-chrome", "chromium", "chromium-browser", "google-chrome-stable")
CHROME_PACKAGE = "chromium"


def find_chrome():
    """The Chrome or Chromium the browser tours will run, or None."""
    return next(filter(None, (shutil.which(name) for name in CHROME_NAMES)), None)


def ensure_chrome():
    """Chromium for the browser tours: Debian's package, installed when missing and root.

    The tours fail without a browser (the addon conftest turns Odoo's skip into a
    failure); stopping here says why, before the suite runs.
    """
    found = find_chrome()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"No Chrome or Chromium found: apt-get install -y {CHROME_PACKAGE}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        installed = subprocess.run(
            ["apt-get", "install", "-y", "--no-install-recommends", CHROME_PACKAGE],
            env=env,
            check=False,
        )
        if installed.returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=False)
            subprocess.run(
                ["apt-get", "install", "-y", "--no-install-recommends", CHROME_PACKAGE],
                env=env,
                check=False,
            )
        found = find_chrome()
    if not found:
        sys.exit(
            "The browser tours need Chrome or Chromium on PATH (one of "
            f"{', '.join(CHROME_NAMES)}): install the Debian package '{CHROME_PACKAGE}' "
            f"(apt-get install -y {CHROME_PACKAGE}) and run again."
        )
    return found


def local_config():
    """A configuration file for ``make run`` with keys made once and kept (git-ignored)."""
    path = odoo_env.REPO / ".local" / "odoo.conf"
    if not path.exists():
        import secrets  # noqa: PLC0415

        from cryptography.fernet import Fernet  # noqa: PLC0415

        path.parent.mkdir(exist_ok=True)
        path.write_text(
            "[options]\n"
            f"integration_queue_secret_key = {Fernet.generate_key().decode()}\n"
            f"integration_queue_metrics_token = {secrets.token_urlsafe(32)}\n"
        )
        path.chmod(0o600)
    return path


def cmd_run(args):
    preflight(keep_postgres=True)
    pip_install("requirements.txt")
    modules = ",".join(odoo_env.OUR_ADDONS)
    common = [
        f"--config={local_config()}",
        f"--addons-path={odoo_env.addons_path()}",
        f"--database={args.db}",
        f"--db-filter=^{args.db}$",
        *odoo_env.db_options(),
    ]
    if not odoo_env.database_exists(args.db):
        print(f"Creating database {args.db} with {modules} and demo data ...", flush=True)
        subprocess.run(
            odoo_env.odoo_command(*common, "-i", modules, "--stop-after-init"), check=True
        )
    else:
        print(f"Reusing database {args.db}; updating {modules} ...", flush=True)
        subprocess.run(
            odoo_env.odoo_command(*common, "-u", modules, "--stop-after-init"), check=True
        )
    secrets_file = write_demo_secrets(args.db, f"http://127.0.0.1:{args.port}")
    print(
        f"\nOdoo is starting on http://127.0.0.1:{args.port}/odoo  (database {args.db}; "
        f"log in as admin / admin; configuration {local_config()}). Stop with Ctrl+C.\n"
        f"Signing secrets of the demo partners, new at each start (the previous ones stay "
        f"valid for the overlap): {secrets_file}\n",
        flush=True,
    )
    os.execv(
        sys.executable,
        odoo_env.odoo_command(*common, "--http-interface=127.0.0.1", f"--http-port={args.port}"),
    )


def write_demo_secrets(db, base_url):
    """Rotate the demo partners' secrets as admin; write them to a git-ignored file."""
    command = [
        sys.executable,
        "-m",
        "tests.harness.demo_secrets",
        f"--config={local_config()}",
        f"--database={db}",
        f"--url={base_url}",
        f"--output={demo_secrets.DEFAULT_OUTPUT}",
    ]
    subprocess.run(command, cwd=odoo_env.REPO, check=True, stdout=subprocess.DEVNULL)
    return demo_secrets.DEFAULT_OUTPUT


def install_addons(db):
    """Install the five addons with their demo data on ``db``; no tests run at install."""
    modules = ",".join(odoo_env.OUR_ADDONS)
    command = odoo_env.odoo_command(
        f"--addons-path={odoo_env.addons_path()}",
        f"--database={db}",
        "-i",
        modules,
        "--stop-after-init",
        "--max-cron-threads=0",
        "--log-level=warn",
        *odoo_env.db_options(),
    )
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)


def addons_fingerprint():
    """Names, sizes and times of the addons' files: changes when the code does."""
    return sorted(
        (str(path), stat.st_size, stat.st_mtime_ns)
        for name in odoo_env.OUR_ADDONS
        for path in (odoo_env.ADDONS / name).rglob("*")
        if path.suffix in (".py", ".xml", ".csv") and "tests" not in path.parts
        for stat in (path.stat(),)
    )


def update_addons(db):
    """Update the five addons on the installed ``db`` so its schema matches the code."""
    command = odoo_env.odoo_command(
        f"--addons-path={odoo_env.addons_path()}",
        f"--database={db}",
        "-u",
        ",".join(odoo_env.OUR_ADDONS),
        "--stop-after-init",
        "--max-cron-threads=0",
        "--log-level=warn",
        *odoo_env.db_options(),
    )
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)


def addon_test_config():
    """The Odoo configuration file the addon suite runs with (git-ignored, made once)."""
    path = odoo_env.REPO / ".local" / "pytest-odoo.conf"
    if not path.exists():
        from cryptography.fernet import Fernet  # noqa: PLC0415

        path.parent.mkdir(exist_ok=True)
        path.write_text(
            "[options]\n"
            f"integration_queue_secret_key = {Fernet.generate_key().decode()}\n"
            "http_interface = 127.0.0.1\n"
            "max_cron_threads = 0\n"
        )
        path.chmod(0o600)
    return path


def addon_test_command(db, extra=(), junit=None):
    """The pytest-odoo command line of the addon suite (documented in README, Tests)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        f"--odoo-database={db}",
        "--odoo-http",
        f"--odoo-config={addon_test_config()}",
        f"--odoo-addons-path={odoo_env.addons_path()}",
        "--odoo-log-level=warn",
        *(f"--odoo-extra={option.lstrip('-')}" for option in odoo_env.db_options()),
        "-p",
        "no:cacheprovider",
        "-o",
        "console_output_style=classic",
        f"--rootdir={odoo_env.REPO}",
    ]
    if junit:
        command.append(f"--junitxml={junit}")
    command += [str(odoo_env.ADDONS / name / "tests") for name in odoo_env.OUR_ADDONS]
    return command + list(extra)


def junit_counts(path):
    """Counts of a JUnit XML report: passed, failed, errors, skipped, total."""
    import xml.etree.ElementTree as ElementTree  # noqa: PLC0415

    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not path.exists():
        return None
    root = ElementTree.parse(path).getroot()
    for suite in root.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return {
        "passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
        "failed": counts["failures"],
        "errors": counts["errors"],
        "skipped": counts["skipped"],
        "total": counts["tests"],
    }


def run_addon_tests(db, extra=(), junit_name="junit-addons.xml"):
    """Run every addon's tests under pytest-odoo on the installed ``db``.

    Returns (exit code, counts); counts come from the JUnit XML written under .local/.
    """
    junit = odoo_env.REPO / ".local" / junit_name
    junit.parent.mkdir(exist_ok=True)
    junit.unlink(missing_ok=True)
    command = addon_test_command(db, extra, junit=junit)
    print("+ " + " ".join(command), flush=True)
    process = subprocess.Popen(
        command,
        cwd=odoo_env.REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    summary = None
    for line in process.stdout:
        sys.stdout.write(line)
        if PYTEST_SUMMARY.search(line):
            summary = line.strip().strip("=").strip()
    rc = process.wait()
    counts = junit_counts(junit)
    if counts is not None:
        counts["summary"] = summary
    return rc, counts


def format_counts(counts):
    """pytest's closing line, then the JUnit counts (where subtests are test cases too)."""
    if counts is None:
        return "no report"
    junit = (
        f"JUnit: {counts['passed']} passed, {counts['failed']} failed, {counts['errors']} "
        f"errors, {counts['skipped']} skipped of {counts['total']} cases"
    )
    return f"{counts['summary']} ({junit})" if counts.get("summary") else junit


def run_e2e_tests(db, extra):
    """Run the end-to-end tests (tests/) against copies of the installed ``db``."""
    env = dict(os.environ, HCSC_TEST_DB=db)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(odoo_env.REPO / "tests"),
        "-p",
        "no:cacheprovider",
        "-o",
        "console_output_style=classic",
        f"--junitxml={odoo_env.REPO / '.local' / 'junit-e2e.xml'}",
        *extra,
    ]
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def part_failed(rc, selected):
    """A pytest exit code that fails the run (5, nothing collected, only under a -k/ARGS filter)."""
    return rc not in ((0, 5) if selected else (0,))


def cmd_test(args):
    """Install the addons on a throwaway database, run the addon suite, then the e2e tests."""
    preflight()
    print(f"Browser for the tours: {ensure_chrome()}", flush=True)
    if not args.no_install:
        pip_install("requirements.txt", "tests/requirements.txt")
    db = f"hcsc_test_{uuid.uuid4().hex[:10]}"
    print(f"Throwaway database: {db}", flush=True)
    selected = bool(args.pytest_args)
    e2e_rc = 0
    try:
        install_addons(db)
        addons_rc, counts = run_addon_tests(db, args.pytest_args)
        print(f"addons: {format_counts(counts)} (pytest exit code {addons_rc})", flush=True)
        if not args.addons_only:
            e2e_rc = run_e2e_tests(db, args.pytest_args)
    finally:
        if not args.keep_db:
            odoo_env.drop_database(db)
            for leftover in odoo_env.list_databases(prefix=db):
                odoo_env.drop_database(leftover)
    nothing_ran = (
        selected and addons_rc == 5 and e2e_rc in (5,) + ((0,) if args.addons_only else ())
    )
    if part_failed(addons_rc, selected) or part_failed(e2e_rc, selected) or nothing_ran:
        print(
            f"FAILED: addon suite exit code {addons_rc}, end-to-end exit code {e2e_rc}"
            + (" (no test selected)" if nothing_ran else ""),
            flush=True,
        )
        sys.exit(1)
    print("All tests passed.", flush=True)


def cmd_test_repeat(args):
    """Run the addon suite ``times`` times on one installed database; counts per run."""
    preflight()
    print(f"Browser for the tours: {ensure_chrome()}", flush=True)
    if not args.no_install:
        pip_install("requirements.txt", "tests/requirements.txt")
    db = args.db or f"hcsc_repeat_{uuid.uuid4().hex[:10]}"
    results = []
    try:
        if not args.db:
            print(f"Throwaway database: {db}", flush=True)
            install_addons(db)
        else:
            # the code may have moved on since that database was installed
            update_addons(db)
        code = addons_fingerprint()
        for run in range(1, args.times + 1):
            if addons_fingerprint() != code:
                print("The addons changed since the last run: updating them first.", flush=True)
                update_addons(db)
                code = addons_fingerprint()
            rc, counts = run_addon_tests(
                db, ["-q", *args.pytest_args], junit_name=f"junit-addons-run{run}.xml"
            )
            results.append((rc, counts))
            print(f"run {run}/{args.times}: {format_counts(counts)}", flush=True)
    finally:
        if not args.db and not args.keep_db:
            odoo_env.drop_database(db)
    print(f"\nAddon suite {args.times} times on {db}:", flush=True)
    for run, (rc, counts) in enumerate(results, 1):
        print(f"  run {run:2d}: {format_counts(counts)} (exit code {rc})", flush=True)
    bad = [run for run, (rc, _counts) in enumerate(results, 1) if rc != 0]
    print(f"{len(results) - len(bad)} green runs, {len(bad)} red runs", flush=True)
    if bad:
        sys.exit(1)


def cmd_bench(args):
    """Run the benchmarks, each in a process of its own (tests/benchmarks/__main__.py)."""
    preflight()
    pip_install("requirements.txt", "tests/requirements.txt", "tests/benchmarks/requirements.txt")
    command = [sys.executable, "-m", "tests.benchmarks", *args.names]
    sys.exit(subprocess.run(command, cwd=odoo_env.REPO, check=False).returncode)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="make", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="serve Odoo with the addons and demo data")
    run.add_argument("--db", default=DEMO_DB)
    run.add_argument("--port", default=os.environ.get("HCSC_PORT", "8069"))
    run.set_defaults(func=cmd_run)
    # Arguments the harness does not know go to pytest, in their order (make test ARGS=...).
    test = sub.add_parser(
        "test",
        help="run every addon test (pytest-odoo) and end-to-end test; other arguments go to pytest",
        allow_abbrev=False,
    )
    test.add_argument("--no-install", action="store_true", help="skip pip install")
    test.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    test.add_argument("--addons-only", action="store_true", help="skip the end-to-end tests")
    test.set_defaults(func=cmd_test, takes_pytest_args=True)
    repeat = sub.add_parser(
        "test-repeat",
        help="run the addon suite N times on one installed database; other arguments go to pytest",
        allow_abbrev=False,
    )
    repeat.add_argument("times", type=int, help="how many runs")
    repeat.add_argument("--db", help="an installed database to reuse (default: a throwaway one)")
    repeat.add_argument("--no-install", action="store_true", help="skip pip install")
    repeat.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    repeat.set_defaults(func=cmd_test_repeat, takes_pytest_args=True)
    bench = sub.add_parser("bench", help="run benchmarks, each in its own process")
    bench.add_argument("names", nargs="*")
    bench.set_defaults(func=cmd_bench)
    args, unknown = parser.parse_known_args(argv)
    if getattr(args, "takes_pytest_args", False):
        args.pytest_args = unknown[1:] if unknown[:1] == ["--"] else unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.func(args)


if __name__ == "__main__":
    main()
