"""Regenerate ``docs/openapi.json``, the static copy of the served partner API contract.

    python -m tests.harness.openapi [--db <installed database>]

The document is what ``GET /integration/v1/openapi.json`` serves on a copy of an
installed database with the addons and their demo data (``--db``, else
``HCSC_TEST_DB``, else a throwaway one installed here). ``tests/e2e/test_openapi_contract.py``
fails while the committed copy differs from what is served.
"""

import argparse
import os
import sys
import uuid

import requests

from . import cli, odoo_env
from .server import OdooServer

STATIC_COPY = odoo_env.REPO / "docs" / "openapi.json"
SECRET_KEY_CONFIG = {"integration_queue_secret_key": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="}


def served_document(template_db):
    """The document text a server on a copy of ``template_db`` serves."""
    name = f"{template_db}_oas_{uuid.uuid4().hex[:6]}"
    odoo_env.create_database_from_template(template_db, name)
    try:
        with OdooServer(name, max_cron_threads=0, config=SECRET_KEY_CONFIG) as server:
            response = requests.get(server.url + "/integration/v1/openapi.json", timeout=60)
            response.raise_for_status()
            return response.text
    finally:
        odoo_env.drop_database(name)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("HCSC_TEST_DB"))
    args = parser.parse_args(argv)
    odoo_env.check_odoo()
    odoo_env.check_postgres()
    throwaway = None
    if not args.db:
        throwaway = args.db = f"hcsc_oas_{uuid.uuid4().hex[:8]}"
        cli.install_addons(throwaway)
    try:
        text = served_document(args.db)
    finally:
        if throwaway:
            odoo_env.drop_database(throwaway)
    STATIC_COPY.parent.mkdir(exist_ok=True)
    changed = not STATIC_COPY.exists() or STATIC_COPY.read_text() != text
    STATIC_COPY.write_text(text)
    print(f"{STATIC_COPY.relative_to(odoo_env.REPO)}: {'updated' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
