"""Fixtures of the resilience scenarios: a database copied from the installed test
database with the test-only ``resilience_faults`` addon added (message types whose
jobs kill their worker or never end: never installed in production)."""

import subprocess
import uuid

import pytest

from tests.harness import odoo_env

from .common import FAULT_ADDONS


@pytest.fixture(scope="session")
def fault_template(template_db):
    name = f"{template_db}_faults_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    try:
        subprocess.run(
            odoo_env.odoo_command(
                f"--addons-path={odoo_env.addons_path(FAULT_ADDONS)}",
                f"--database={name}",
                "-i",
                "resilience_faults",
                "--stop-after-init",
                "--max-cron-threads=0",
                "--log-level=warn",
                *odoo_env.db_options(),
            ),
            check=True,
        )
        yield name
    finally:
        odoo_env.drop_database(name)


@pytest.fixture
def fault_db(fault_template):
    """A database of its own for one scenario, with the fault message types."""
    name = f"{fault_template}_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(fault_template, name)
    yield name
    odoo_env.drop_database(name)
