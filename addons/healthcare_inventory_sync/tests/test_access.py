import json

from odoo.tests import tagged

from .common import HealthcareHttpCase

STOCK_USER = "stock.group_stock_user"
STOCK_MANAGER = "stock.group_stock_manager"
INTERNAL = "base.group_user"
INTEGRATION_USER = "integration_queue.group_integration_user"
STEWARD = "healthcare_inventory_sync.group_inventory_data_steward"


@tagged("post_install", "-at_install")
class TestAccessOverJsonRpc(HealthcareHttpCase):
    """Company isolation and button groups, attacked over /web/dataset/call_kw."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        Orderpoint = cls.env["stock.warehouse.orderpoint"]
        Orderpoint.create(
            {
                "warehouse_id": cls.hospital.id,
                "location_id": cls.hospital.lot_stock_id.id,
                "product_id": cls.saline.id,
                "product_min_qty": 20,
                "product_max_qty": 60,
                "trigger": "manual",
            }
        )
        Orderpoint.with_company(cls.company_b).create(
            {
                "warehouse_id": cls.facility_b.id,
                "location_id": cls.facility_b.lot_stock_id.id,
                "product_id": cls.product_b.id,
                "product_min_qty": 20,
                "product_max_qty": 60,
                "trigger": "manual",
                "company_id": cls.company_b.id,
            }
        )
        cls.stock_user = cls._new_user("hc-stock-user", [STOCK_USER])
        cls.stock_manager = cls._new_user("hc-stock-manager", [STOCK_MANAGER])
        cls.internal_user = cls._new_user("hc-internal", [INTERNAL])
        cls.integration_user = cls._new_user("hc-integration", [INTEGRATION_USER])
        cls.steward_a = cls._new_user("hc-steward-a", [STEWARD])

    def setUp(self):
        super().setUp()
        expiry = self.in_days(300)
        # rows of both companies: stock, sync state, availability, proposal, alert
        self.snapshot(
            self.hospital,
            [{"item": "T-NACL", "lot": "A-LOW", "expiry": expiry, "quantity": 5}],
        )
        message = self.process_b(
            "inventory.snapshot",
            {
                "facility": "T-B-HOSP",
                "as_of": "2026-11-01T08:00:00Z",
                "lines": [{"item": "B-EHR-1", "lot": "B-LOW", "expiry": expiry, "quantity": 5}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        Proposal = self.env["healthcare.replenishment.proposal"]
        self.proposal_a = Proposal.search([("warehouse_id", "=", self.hospital.id)])
        self.proposal_b = Proposal.search([("warehouse_id", "=", self.facility_b.id)])
        self.assertTrue(self.proposal_a and self.proposal_b)

    # helpers ---------------------------------------------------------------

    def call_kw(self, model, method, args=(), **kwargs):
        """Call over JSON-RPC as the authenticated user: (result, error name, error message)."""
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        answer = response.json()
        if "error" in answer:
            data = answer["error"]["data"]
            return None, data["name"], data["message"]
        return answer.get("result"), None, None

    def assertRefused(self, model, method, args=(), exception="AccessError", text=None, **kw):
        result, error, message = self.call_kw(model, method, args, **kw)
        self.assertEqual(error, f"odoo.exceptions.{exception}", (result, message))
        if text:
            self.assertIn(text, message)
        return message

    # point 9: company isolation --------------------------------------------

    def test_company_a_user_reads_no_company_b_rows(self):
        self.authenticate("hc-stock-user", "hc-stock-user")
        models_b = {
            "healthcare.replenishment.proposal": [("warehouse_id", "=", self.facility_b.id)],
            "healthcare.stock.alert": [("warehouse_id", "=", self.facility_b.id)],
            "healthcare.facility.sync.state": [("warehouse_id", "=", self.facility_b.id)],
            "healthcare.availability.state": [("warehouse_id", "=", self.facility_b.id)],
            "integration.item.mapping": [("partner_id", "=", self.partner_b.id)],
            "healthcare.stock.overview": [("warehouse_id", "=", self.facility_b.id)],
            # facility configuration: Odoo's own company rule on warehouses
            "stock.warehouse": [("id", "=", self.facility_b.id)],
        }
        for model, domain in models_b.items():
            rows_b = self.env[model].search(domain)
            self.assertTrue(rows_b, f"fixture has no {model} row of company B")
            found, error, message = self.call_kw(model, "search_read", [[]], fields=["id"])
            self.assertIsNone(error, message)
            self.assertFalse({row["id"] for row in found} & set(rows_b.ids), model)
            if model != "healthcare.stock.overview":
                self.assertRefused(model, "read", [rows_b.ids[:1], ["id"]])
        # company A's own rows are readable
        found, error, message = self.call_kw(
            "healthcare.replenishment.proposal", "search_read", [[]], fields=["id"]
        )
        self.assertIn(self.proposal_a.id, [row["id"] for row in found])

    def test_cross_facility_view_hides_company_b_stock(self):
        self.authenticate("hc-stock-user", "hc-stock-user")
        groups, error, message = self.call_kw(
            "healthcare.stock.overview",
            "read_group",
            [[], ["on_hand:sum"], ["warehouse_id"]],
            lazy=False,
        )
        self.assertIsNone(error, message)
        facilities = {group["warehouse_id"][0] for group in groups if group["warehouse_id"]}
        self.assertIn(self.hospital.id, facilities)
        self.assertNotIn(self.facility_b.id, facilities)
        rows, error, message = self.call_kw(
            "healthcare.stock.overview",
            "search_read",
            [[("product_id", "=", self.product_b.id)]],
            fields=["warehouse_id", "on_hand"],
        )
        self.assertEqual(rows, [])
        # even naming company B in the context does not widen the view
        rows, error, message = self.call_kw(
            "healthcare.stock.overview",
            "search_read",
            [[("product_id", "=", self.product_b.id)]],
            fields=["warehouse_id"],
            context={"allowed_company_ids": [self.company_b.id]},
        )
        self.assertEqual(rows or [], [])

    # point 11: buttons check groups ----------------------------------------

    def test_apply_and_cancel_proposal_need_inventory_manager(self):
        for login in ("hc-stock-user", "hc-internal", "hc-integration", "hc-steward-a"):
            self.authenticate(login, login)
            for method in ("action_apply", "action_cancel"):
                self.assertRefused(
                    "healthcare.replenishment.proposal",
                    method,
                    [self.proposal_a.ids],
                    text="Only Inventory Managers",
                )
        self.assertEqual(self.proposal_a.state, "draft")
        # (with Purchase installed the proposal would buy: keep the test about the group)
        self.proposal_a.source_type = "escalation"
        self.authenticate("hc-stock-manager", "hc-stock-manager")
        _result, error, message = self.call_kw(
            "healthcare.replenishment.proposal", "action_apply", [self.proposal_a.ids]
        )
        self.assertIsNone(error, message)
        self.assertEqual(self.proposal_a.state, "done")

    def test_inventory_user_cannot_write_a_proposal(self):
        self.authenticate("hc-stock-user", "hc-stock-user")
        self.assertRefused(
            "healthcare.replenishment.proposal",
            "write",
            [self.proposal_a.ids, {"state": "done"}],
        )
        self.assertEqual(self.proposal_a.state, "draft")

    def test_manager_cannot_apply_another_companys_proposal(self):
        self.authenticate("hc-stock-manager", "hc-stock-manager")
        self.assertRefused(
            "healthcare.replenishment.proposal", "action_apply", [self.proposal_b.ids]
        )
        self.assertEqual(self.proposal_b.state, "draft")

    def test_manager_cannot_source_from_another_company(self):
        self.authenticate("hc-stock-manager", "hc-stock-manager")
        self.call_kw(
            "healthcare.replenishment.proposal",
            "write",
            [
                self.proposal_a.ids,
                {"source_type": "transfer", "source_warehouse_id": self.facility_b.id},
            ],
        )
        self.assertRefused(
            "healthcare.replenishment.proposal",
            "action_apply",
            [self.proposal_a.ids],
            exception="UserError",
            text="Source Facility",
        )
        self.assertFalse(self.proposal_a.picking_id)

    def test_resolve_alert_needs_inventory_user(self):
        alert = self.env["healthcare.stock.alert"].search(
            [("warehouse_id", "=", self.hospital.id), ("state", "=", "open")], limit=1
        )
        self.assertTrue(alert)
        for login in ("hc-internal", "hc-integration"):
            self.authenticate(login, login)
            self.assertRefused(
                "healthcare.stock.alert",
                "action_resolve",
                [alert.ids],
                text="Only Inventory Users",
            )
        self.assertEqual(alert.state, "open")
        self.authenticate("hc-stock-user", "hc-stock-user")
        # a plain write is no way around the button, and company B's alerts are out of reach
        self.assertRefused("healthcare.stock.alert", "write", [alert.ids, {"state": "resolved"}])
        alert_b = self.env["healthcare.stock.alert"].search(
            [("warehouse_id", "=", self.facility_b.id), ("state", "=", "open")]
        )
        self.assertTrue(alert_b)
        self.assertRefused("healthcare.stock.alert", "action_resolve", [alert_b.ids])
        self.assertEqual(set(alert_b.mapped("state")), {"open"})
        _result, error, message = self.call_kw(
            "healthcare.stock.alert", "action_resolve", [alert.ids]
        )
        self.assertIsNone(error, message)
        self.assertEqual(alert.state, "resolved")

    def test_mappings_are_kept_by_data_stewards(self):
        self.authenticate("hc-stock-user", "hc-stock-user")
        self.assertRefused(
            "integration.item.mapping",
            "create",
            [{"partner_id": self.partner.id, "external_code": "X", "product_id": self.gloves.id}],
        )
        self.authenticate("hc-steward-a", "hc-steward-a")
        _result, error, message = self.call_kw(
            "integration.item.mapping",
            "create",
            [{"partner_id": self.partner.id, "external_code": "X", "product_id": self.gloves.id}],
        )
        self.assertIsNone(error, message)
        # ... but not for a partner of another company
        self.assertRefused(
            "integration.item.mapping",
            "create",
            [{"partner_id": self.partner_b.id, "external_code": "Y", "product_id": self.gloves.id}],
        )
