"""The served OpenAPI document: valid OpenAPI 3.1, and the committed docs/openapi.json.

Regenerate the static copy with ``python -m tests.harness.openapi --db <installed db>``.
"""

import json

import requests
from openapi_spec_validator import validate

from tests.harness.openapi import SECRET_KEY_CONFIG, STATIC_COPY
from tests.harness.server import OdooServer


def test_served_contract_is_valid_and_matches_the_committed_copy(fresh_db):
    with OdooServer(fresh_db, max_cron_threads=0, config=SECRET_KEY_CONFIG) as server:
        served = requests.get(server.url + "/integration/v1/openapi.json", timeout=60)
        docs = requests.get(server.url + "/integration/v1/docs", timeout=60)
    assert served.status_code == 200
    document = served.json()
    validate(document)
    for code in (
        "integration.ping",
        "inventory.snapshot",
        "inventory.consumption",
        "purchase.request",
        "vendor.bill",
    ):
        assert f"/integration/v1/inbound/{code}" in document["paths"]
    assert {"inventory.availability", "purchase.order"} <= set(document["webhooks"])
    assert served.text == STATIC_COPY.read_text(), (
        "docs/openapi.json is out of date: run python -m tests.harness.openapi --db <db>"
    )
    validate(json.loads(STATIC_COPY.read_text()))
    assert docs.status_code == 200 and "text/html" in docs.headers["Content-Type"]
    assert "<script" not in docs.text and 'src="http' not in docs.text
