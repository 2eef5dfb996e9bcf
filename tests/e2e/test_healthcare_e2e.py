"""healthcare_inventory_sync from the outside: the demo group (a central store and two
hospitals) driven only through signed HTTP messages; then the quantities per facility
and lot, and the replenishment proposals, are what the story implies."""

import time
import uuid
import xmlrpc.client
from datetime import date, timedelta

from tests.harness.server import OdooServer

from .queue_client import Partner, sign
from .test_queue_crash import SECRET_KEY_CONFIG


class Group:
    def __init__(self, server):
        self.server = server
        common = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common")
        self.uid = common.authenticate(server.dbname, "admin", "admin", {})
        self.rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)

    def call(self, model, method, *args, **kwargs):
        return self.rpc.execute_kw(
            self.server.dbname, self.uid, "admin", model, method, list(args), kwargs
        )

    def partner(self, code):
        """A demo facility system with a freshly rotated secret."""
        [partner_id] = self.call("integration.partner", "search", [("code", "=", code)])
        action = self.call("integration.partner", "action_rotate_secret", [partner_id])
        return Partner([self.server.url], code, action["context"]["default_secret"])

    def on_hand(self, facility, item, lot=None):
        [warehouse] = self.call(
            "stock.warehouse",
            "search_read",
            [("facility_code", "=", facility)],
            ["view_location_id"],
        )
        domain = [
            ("product_id.default_code", "=", item),
            ("location_id.usage", "=", "internal"),
            ("location_id", "child_of", warehouse["view_location_id"][0]),
        ]
        if lot:
            domain.append(("lot_id.name", "=", lot))
        quants = self.call("stock.quant", "search_read", domain, ["quantity"])
        return sum(q["quantity"] for q in quants)


def send(partner, message_type, payload, timeout=150, expect="done"):
    """POST a signed message, then poll its status until it is processed."""
    msg_id = f"e2e_{uuid.uuid4().hex}"
    response = partner.post(message_type, payload, msg_id=msg_id)
    assert response.status_code == 202, response.text
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        headers = sign(partner.secret, msg_id, b"")
        headers["X-Partner-Code"] = partner.code
        status = partner.session.get(
            f"{partner.urls[0]}/integration/v1/messages/{msg_id}", headers=headers, timeout=10
        ).json()
        if status["status"] in ("done", "exception", "dead"):
            assert status["status"] == expect, status
            return status
        time.sleep(0.2)
    raise AssertionError(f"{message_type} {msg_id} not processed within {timeout}s")


def days(n):
    return (date.today() + timedelta(days=n)).isoformat()


def test_demo_group_through_signed_messages(fresh_db):
    server = OdooServer(fresh_db, max_cron_threads=2, config=SECRET_KEY_CONFIG).start()
    try:
        group = Group(server)
        central = group.partner("DEMO-CENTRAL")
        north = group.partner("DEMO-HOSP-N")
        south = group.partner("DEMO-HOSP-S")
        now = "2026-11-25T08:00:00Z"

        send(
            central,
            "inventory.receipt",
            {
                "facility": "CENTRAL",
                "received_at": now,
                "lines": [
                    {"item": "IVS-NACL-500", "lot": "CS-A", "expiry": days(400), "quantity": 500},
                    {
                        "gs1": f"(01)00871234000117(17){days(120)[2:].replace('-', '')}(10)CS-B",
                        "quantity": 200,
                    },
                ],
            },
        )
        send(
            north,
            "inventory.snapshot",
            {
                "facility": "HOSP-N",
                "as_of": now,
                "sequence": 1,
                "lines": [
                    {"item": "IVS-NACL-500", "lot": "HN-1", "expiry": days(200), "quantity": 50}
                ],
            },
        )
        result = send(
            north,
            "inventory.consumption",
            {
                "facility": "HOSP-N",
                "occurred_at": now,
                "reference": "WARD-3",
                "lines": [{"item": "IVS-NACL-500", "lot": "HN-1", "quantity": 40}],
            },
        )
        assert result["result"]["shortfalls"] == []
        stale = send(
            north,
            "inventory.snapshot",
            {
                "facility": "HOSP-N",
                "as_of": now,
                "sequence": 0,
                "lines": [
                    {"item": "IVS-NACL-500", "lot": "HN-1", "expiry": days(200), "quantity": 999}
                ],
            },
        )
        assert stale["result"]["stale"] is True
        transfer = send(
            south,
            "inventory.transfer_request",
            {
                "from_facility": "CENTRAL",
                "to_facility": "HOSP-S",
                "priority": "emergency",
                "lines": [{"item": "IVS-NACL-500", "quantity": 30}],
            },
        )
        assert transfer["result"]["state"] == "assigned"
        send(
            south,
            "inventory.snapshot",
            {
                "facility": "HOSP-S",
                "as_of": now,
                "lines": [{"gtin": "0871234000032", "quantity": 5, "uom": "EA"}],
            },
        )

        assert group.on_hand("CENTRAL", "IVS-NACL-500", "CS-A") == 500
        assert group.on_hand("CENTRAL", "IVS-NACL-500", "CS-B") == 200
        assert group.on_hand("HOSP-N", "IVS-NACL-500", "HN-1") == 10
        assert group.on_hand("HOSP-S", "MSK-SURG") == 5
        # the emergency transfer reserved the earliest expiry first
        [picking] = group.call(
            "stock.picking",
            "search_read",
            [("origin", "like", transfer["message_id"])],
            ["priority", "move_line_ids"],
        )
        assert picking["priority"] == "1"
        lines = group.call("stock.move.line", "read", picking["move_line_ids"], ["lot_id"])
        assert {line["lot_id"][1] for line in lines} == {"CS-B"}

        proposals = group.call(
            "healthcare.replenishment.proposal",
            "search_read",
            [("state", "=", "draft")],
            ["warehouse_id", "product_id", "source_type", "source_warehouse_id", "quantity"],
        )
        by_key = {
            (p["warehouse_id"][1], p["product_id"][1].split("]")[0][1:]): p for p in proposals
        }
        north_saline = by_key[("North Hospital", "IVS-NACL-500")]
        assert north_saline["source_type"] == "transfer"
        assert north_saline["source_warehouse_id"][1] == "Central Store"
        assert north_saline["quantity"] == 90
        assert by_key[("South Hospital", "MSK-SURG")]["source_type"] == "escalation"
    finally:
        server.stop()


def refused(partner, message_type, payload):
    """POST a signed message that the gateway must refuse; return the error."""
    response = partner.post(message_type, payload)
    assert response.status_code == 403, response.text
    return response.json()["error"]


def test_partners_stay_inside_their_company(fresh_db):
    """The demo's second company (West Valley) and the first one, attacking each other
    over signed HTTP: facilities and items of the other company are out of reach."""
    server = OdooServer(fresh_db, max_cron_threads=2, config=SECRET_KEY_CONFIG).start()
    try:
        group = Group(server)
        west = group.partner("DEMO-WV-HOSP")
        south = group.partner("DEMO-HOSP-S")
        now = "2026-11-25T08:00:00Z"
        line = {"item": "WV-NACL-500", "lot": "WV-1", "expiry": days(300), "quantity": 12}
        ask = {"item": "WV-NACL-500", "quantity": 1}

        # a facility of the other company, by each facility field
        error = refused(
            west, "inventory.snapshot", {"facility": "CENTRAL", "as_of": now, "lines": [line]}
        )
        assert error["field"] == "facility"
        error = refused(
            south,
            "inventory.transfer_request",
            {
                "from_facility": "WV-HOSP",
                "to_facility": "HOSP-S",
                "priority": "routine",
                "lines": [ask],
            },
        )
        assert error["field"] == "from_facility"
        error = refused(
            west,
            "inventory.transfer_request",
            {
                "from_facility": "WV-HOSP",
                "to_facility": "HOSP-S",
                "priority": "routine",
                "lines": [ask],
            },
        )
        assert error["field"] == "to_facility"

        # its own facility and item: applied
        send(west, "inventory.snapshot", {"facility": "WV-HOSP", "as_of": now, "lines": [line]})
        assert group.on_hand("WV-HOSP", "WV-NACL-500", "WV-1") == 12
        # the other company's item is unknown to a partner of company A
        failed = send(
            south,
            "inventory.snapshot",
            {"facility": "HOSP-S", "as_of": now, "lines": [dict(line, lot="STOLEN")]},
            expect="exception",
        )
        assert failed["error_field"] == "lines[0].item", failed
        assert group.on_hand("HOSP-S", "WV-NACL-500") == 0
    finally:
        server.stop()
