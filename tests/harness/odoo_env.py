"""Find Odoo and PostgreSQL, or say in one sentence what is missing.

Used by the run and test commands and by the end-to-end harness. Odoo is the
one installed in this Python environment; ``bootstrap`` installs it into ``.venv``
and ``embedded_pg`` starts a private PostgreSQL when none is reachable.
"""

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ADDONS = REPO / "addons"
OUR_ADDONS = (
    "integration_audit",
    "integration_queue",
    "healthcare_inventory_sync",
    "contract_procurement",
    "healthcare_edi_x12",
)
INSTALL_HINT = (
    "run it through make (make run / make test install Odoo 18.0 into .venv from "
    "ODOO_SOURCE), or run with PYTHON=/path/to/a/python/that/has/odoo"
)


class SetupError(SystemExit):
    """A missing prerequisite: exits with the sentence that names it."""

    def __init__(self, sentence):
        super().__init__(f"error: {sentence}")


def check_odoo():
    """Return the odoo package's version info, or stop with a clear sentence."""
    try:
        import odoo.release  # noqa: PLC0415
    except ImportError as error:
        raise SetupError(
            f"Odoo is not importable from {sys.executable} ({error}); {INSTALL_HINT}."
        ) from None
    if odoo.release.version_info[0] != 18:
        raise SetupError(
            f"Odoo {odoo.release.version} is installed in {sys.executable}, but these "
            f"addons need 18.0; {INSTALL_HINT}."
        )
    return odoo.release.version


def odoo_addons_paths():
    """Directories that hold Odoo's standard addons (base, stock, purchase, ...)."""
    import odoo  # noqa: PLC0415

    package = Path(odoo.__file__).resolve().parent
    candidates = [Path(p) for p in os.environ.get("ODOO_ADDONS_PATH", "").split(",") if p]
    candidates += [package / "addons", package.parent / "addons"]
    paths = []
    for candidate in candidates:
        if (candidate / "stock" / "__manifest__.py").exists() or (
            candidate / "base" / "__manifest__.py"
        ).exists():
            if candidate not in paths:
                paths.append(candidate)
    if not any((p / "purchase_stock" / "__manifest__.py").exists() for p in paths):
        raise SetupError(
            "the standard Odoo addons (stock, purchase, account) were not found next to "
            f"{package}; set ODOO_ADDONS_PATH to the folder that holds them, or {INSTALL_HINT}."
        )
    return paths


def addons_path(*extra):
    return ",".join(str(p) for p in [*odoo_addons_paths(), ADDONS, *extra])


def db_options():
    """Connection options for Odoo, from the usual PG* variables."""
    options = []
    for env_name, option in (
        ("PGHOST", "--db_host"),
        ("PGPORT", "--db_port"),
        ("PGUSER", "--db_user"),
        ("PGPASSWORD", "--db_password"),
    ):
        if os.environ.get(env_name):
            options.append(f"{option}={os.environ[env_name]}")
    return options


def pg_connect(dbname="postgres"):
    import psycopg2  # noqa: PLC0415

    kwargs = {"dbname": dbname}
    for env_name, key in (
        ("PGHOST", "host"),
        ("PGPORT", "port"),
        ("PGUSER", "user"),
        ("PGPASSWORD", "password"),
    ):
        if os.environ.get(env_name):
            kwargs[key] = os.environ[env_name]
    return psycopg2.connect(**kwargs)


def postgres_problem():
    """Why PostgreSQL cannot be reached with the PG* settings (one line), or None."""
    try:
        import psycopg2  # noqa: PLC0415, F401
    except ImportError:
        raise SetupError(
            f"psycopg2 is missing from {sys.executable}; install Odoo's requirements "
            "(pip install -r requirements.txt from Odoo's sources)."
        ) from None
    try:
        conn = pg_connect()
    except Exception as error:
        text = str(error).strip()
        return text.splitlines()[0] if text else repr(error)
    conn.close()
    return None


def check_postgres():
    """Stop with a clear sentence when PostgreSQL cannot be reached."""
    problem = postgres_problem()
    if problem:
        raise SetupError(
            "PostgreSQL is not reachable with the PGHOST/PGPORT/PGUSER settings "
            f"({problem}); start PostgreSQL 12 or newer and make sure this user may "
            "create databases, or unset HCSC_EMBEDDED_PG=0 to let make start its own."
        )


def create_database_from_template(template, name):
    conn = pg_connect()
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    conn.close()


def drop_database(name):
    conn = pg_connect()
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            [name],
        )
        cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def database_exists(name):
    conn = pg_connect()
    with conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        found = cr.fetchone() is not None
    conn.close()
    return found


def odoo_command(*args):
    """The command line that runs Odoo's CLI with this interpreter.

    The ``odoo`` script beside the interpreter is preferred: Odoo's prefork
    server re-runs ``sys.argv[0]`` for its gevent worker, which ``-m odoo``
    cannot provide.
    """
    script = Path(sys.executable).with_name("odoo")
    if script.exists():
        return [sys.executable, str(script), *args]
    return [sys.executable, "-m", "odoo", *args]


def list_databases(prefix):
    conn = pg_connect()
    with conn.cursor() as cr:
        cr.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"])
        names = [row[0] for row in cr.fetchall()]
    conn.close()
    return names
