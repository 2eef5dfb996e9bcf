"""Fixtures for end-to-end tests: databases copied from the installed test
database, and real Odoo servers on 127.0.0.1.

``make test`` sets HCSC_TEST_DB to the database it installed; run alone,
``pytest tests`` installs a fresh one first.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# the partner client is tested from the repository, not installed
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "clients" / "python"))

from tests.harness import odoo_env
from tests.harness.server import OdooServer


# pytest-odoo, the addon suite's runner, comes with the test requirements and its
# autouse fixtures would load an Odoo registry in this process. End-to-end tests talk
# to real servers instead: these no-op fixtures shadow the plugin's under tests/.
@pytest.fixture(scope="session", autouse=True)
def load_registry():
    yield


@pytest.fixture(scope="session", autouse=True)
def load_http():
    yield


@pytest.fixture(scope="module", autouse=True)
def enable_odoo_test_flag():
    yield


@pytest.fixture(scope="session")
def template_db():
    odoo_env.check_odoo()
    odoo_env.check_postgres()
    name = os.environ.get("HCSC_TEST_DB")
    if name:
        yield name
        return
    name = f"hcsc_e2e_tpl_{uuid.uuid4().hex[:8]}"
    subprocess.run(
        odoo_env.odoo_command(
            f"--addons-path={odoo_env.addons_path()}",
            f"--database={name}",
            "-i",
            ",".join(odoo_env.OUR_ADDONS),
            "--stop-after-init",
            "--max-cron-threads=0",
            *odoo_env.db_options(),
        ),
        check=True,
    )
    yield name
    odoo_env.drop_database(name)


@pytest.fixture
def fresh_db(template_db):
    """A database of its own for one test, copied from the installed template."""
    name = f"{template_db}_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    yield name
    odoo_env.drop_database(name)


@pytest.fixture
def server(fresh_db):
    """A running Odoo server (one cron thread) on a database of its own."""
    instance = OdooServer(fresh_db)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def db_cursor():
    """Open a cursor on a database by name: db_cursor(name) -> connection."""
    connections = []

    def connect(name):
        conn = odoo_env.pg_connect(name)
        conn.autocommit = True
        connections.append(conn)
        return conn

    yield connect
    for conn in connections:
        conn.close()
