"""The project's commands: ``run``, ``test`` and ``bench`` (see the Makefile).

Each stops at once, with one sentence, when Odoo or PostgreSQL is missing.
"""

import argparse
import os
import re
import subprocess
import sys
import uuid

from . import odoo_env

DEMO_DB = os.environ.get("HCSC_DB", "hcsc_demo")
REPORT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests")


def pip_install(*requirement_files):
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    for path in requirement_files:
        command += ["-r", str(odoo_env.REPO / path)]
    print("+ " + " ".join(command), flush=True)
    subprocess.run(command, check=True)


def preflight():
    version = odoo_env.check_odoo()
    odoo_env.check_postgres()
    print(f"Odoo {version} from {sys.executable}; PostgreSQL reachable.", flush=True)


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
    preflight()
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
    print(
        f"\nOdoo is starting on http://127.0.0.1:{args.port}/odoo  (database {args.db}; "
        f"log in as admin / admin; configuration {local_config()}). Stop with Ctrl+C.\n",
        flush=True,
    )
    os.execv(
        sys.executable,
        odoo_env.odoo_command(*common, "--http-interface=127.0.0.1", f"--http-port={args.port}"),
    )


def run_addon_tests(db):
    """Install the addons with their demo data and run their tests; return (passed, failed)."""
    modules = ",".join(odoo_env.OUR_ADDONS)
    tags = ",".join(f"/{name}" for name in odoo_env.OUR_ADDONS)
    command = odoo_env.odoo_command(
        f"--addons-path={odoo_env.addons_path()}",
        f"--database={db}",
        "-i",
        modules,
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        "--http-interface=127.0.0.1",
        f"--http-port={os.environ.get('HCSC_TEST_HTTP_PORT', '8169')}",
        "--max-cron-threads=0",
        "--log-level=test",
        *odoo_env.db_options(),
    )
    print("+ " + " ".join(command), flush=True)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    report = None
    errors = 0
    for line in process.stdout:
        sys.stdout.write(line)
        match = REPORT.search(line)
        if match and "when loading database" in line:
            report = match
        if " ERROR " in line or " CRITICAL " in line:
            errors += 1
    rc = process.wait()
    if report is None:
        print(f"Addon tests: no test report (Odoo exit {rc}).", flush=True)
        return 0, max(errors, 1)
    failed, errored, total = (int(group) for group in report.groups())
    bad = failed + errored
    if rc != 0 and bad == 0:
        bad = 1
    return total - failed - errored, bad


def run_e2e_tests(db, extra):
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
        *extra,
    ]
    print("+ " + " ".join(command), flush=True)
    return subprocess.run(command, env=env, check=False).returncode


def cmd_test(args):
    preflight()
    if not args.no_install:
        pip_install("requirements.txt", "tests/requirements.txt")
    db = f"hcsc_test_{uuid.uuid4().hex[:10]}"
    print(f"Throwaway database: {db}", flush=True)
    try:
        passed, failed = run_addon_tests(db)
        print(f"addons: {passed} passed, {failed} failed", flush=True)
        e2e_rc = run_e2e_tests(db, args.pytest_args) if not args.addons_only else 0
    finally:
        if not args.keep_db:
            odoo_env.drop_database(db)
            for leftover in odoo_env.list_databases(prefix=db):
                odoo_env.drop_database(leftover)
    if failed or e2e_rc not in (0,):
        print(f"FAILED: addon tests {failed} failing, end-to-end exit code {e2e_rc}", flush=True)
        sys.exit(1)
    print("All tests passed.", flush=True)


def cmd_bench(args):
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
    test = sub.add_parser("test", help="run every addon test and end-to-end test")
    test.add_argument("--no-install", action="store_true", help="skip pip install")
    test.add_argument("--keep-db", action="store_true", help="keep the throwaway database")
    test.add_argument("--addons-only", action="store_true", help="skip the end-to-end tests")
    test.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    test.set_defaults(func=cmd_test)
    bench = sub.add_parser("bench", help="run benchmarks")
    bench.add_argument("names", nargs="*")
    bench.set_defaults(func=cmd_bench)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
