import json
from unittest.mock import patch

from odoo.tests import new_test_user, tagged
from odoo.tools import config

from .common import QueueHttpCase

URL = "/integration/v1/inbound/integration.ping"
# the partner's scope as integration_queue declares it; other addons add theirs
QUEUE_SCOPE_FIELDS = {
    "code",
    "company_id",
    "active",
    "message_type_ids",
    "subscription_ids",
    "outbound_url",
    "rate_limit",
}


@tagged("post_install", "-at_install")
class TestReviewHoles(QueueHttpCase):
    """Holes a hostile review found, each attacked over JSON-RPC or HTTP."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.company_a = cls.env.company
        cls.iq_manager = new_test_user(
            cls.env,
            "rh_iq_manager",
            groups="base.group_user,integration_queue.group_integration_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, cls.company_a.ids)],
        )
        cls.partner_rule = cls.env.ref("integration_queue.audit_rule_integration_partner")

    def partner_events(self, partner=None):
        return self.env["integration.audit.event"].search(
            [
                ("res_model", "=", "integration.partner"),
                ("res_id", "=", (partner or self.partner).id),
                ("event_type", "=", "config_change"),
            ]
        )

    def changed_fields(self, events):
        return {
            change["field"]
            for event in events
            for change in json.loads(event.details or "{}").get("changes", [])
        }

    def rejected_events(self, **domain):
        return self.env["integration.audit.event"].search(
            [("event_type", "=", "inbound_rejected")]
            + [(key, "=", value) for key, value in domain.items()]
        )

    def unsigned(self, forwarded_for):
        """An unsigned request through a (trusted) proxy naming any client address."""
        return self.url_open(
            URL,
            data=b"{}",
            headers={
                "Content-Type": "application/json",
                "X-Forwarded-For": forwarded_for,
                "X-Forwarded-Host": "gateway.example",
            },
        )

    # ------------------------------------------------------------------
    # 1. Widening a partner's scope always leaves an audit event
    # ------------------------------------------------------------------

    def test_every_scope_field_is_audited_whatever_the_rule_lists(self):
        """The rule (noupdate data, or narrowed by an Audit Manager) names one field and is
        switched off: the scope fields, including those of other addons, stay audited."""
        self.partner_rule.write(
            {
                "field_ids": [
                    (6, 0, self.env.ref("integration_queue.field_integration_partner__name").ids)
                ],
                "active": False,
            }
        )
        spec = self.env["integration.audit.rule"]._get_specs()["integration.partner"]
        declared = {
            name
            for name, field in self.env["integration.partner"]._fields.items()
            if getattr(field, "always_audited", False)
        }
        self.assertLessEqual(QUEUE_SCOPE_FIELDS, declared)
        for addon_field in ("facility_ids", "supplier_ids"):
            if addon_field in self.env["integration.partner"]._fields:
                self.assertIn(addon_field, declared)
        self.assertLessEqual(declared, spec.field_names)
        self.assertLessEqual({"create", "write", "unlink"}, spec.operations)

        other_type = self.env["integration.message.type"].search(
            [("direction", "=", "inbound"), ("id", "!=", self.ping_type.id)], limit=1
        )
        self.authenticate("rh_iq_manager", "rh_iq_manager")
        before = self.partner_events()
        vals = {
            "rate_limit": 5000,
            "outbound_url": "https://partner.example/hook",
            "message_type_ids": [(4, other_type.id)] if other_type else [(5, 0, 0)],
        }
        for name, value in vals.items():
            _result, error = self.rpc(
                "integration.partner", "write", self.partner.ids, {name: value}
            )
            self.assertIsNone(error, error)
        _result, error = self.rpc("integration.partner", "write", self.partner.ids, {"active": 0})
        self.assertIsNone(error, error)
        events = self.partner_events() - before
        self.assertEqual(
            self.changed_fields(events),
            {"rate_limit", "outbound_url", "message_type_ids", "active"},
        )
        self.assertEqual(set(events.mapped("user_id")), {self.iq_manager})

    def test_an_integration_manager_cannot_switch_partner_auditing_off(self):
        self.authenticate("rh_iq_manager", "rh_iq_manager")
        for vals in ({"active": False}, {"field_ids": [(5, 0, 0)]}, {"log_write": False}):
            self.assertRefused("integration.audit.rule", "write", self.partner_rule.ids, vals)

    def test_widening_facilities_and_suppliers_is_audited(self):
        """Runs with every addon installed, as `make test` does: fails, not skips, without."""
        fields_ = self.env["integration.partner"]._fields
        self.assertTrue(
            "facility_ids" in fields_ or "supplier_ids" in fields_,
            "install healthcare_inventory_sync or contract_procurement to run this test",
        )
        # the data rule as shipped: an explicit list without the other addons' fields
        self.assertNotIn("facility_ids", self.partner_rule.field_ids.mapped("name"))
        vals = {}
        if "facility_ids" in fields_:
            self.iq_manager.groups_id |= self.env.ref("stock.group_stock_user")
            warehouse = self.env["stock.warehouse"].search(
                [("company_id", "=", self.company_a.id)], limit=1
            )
            vals["facility_ids"] = [(4, warehouse.id)]
        if "supplier_ids" in fields_:
            supplier = self.env["res.partner"].create(
                {"name": "Review Holes Supplier", "is_company": True}
            )
            vals["supplier_ids"] = [(4, supplier.id)]
        self.authenticate("rh_iq_manager", "rh_iq_manager")
        before = self.partner_events()
        _result, error = self.rpc("integration.partner", "write", self.partner.ids, vals)
        self.assertIsNone(error, error)
        events = self.partner_events() - before
        self.assertEqual(self.changed_fields(events), set(vals))

    # ------------------------------------------------------------------
    # 2. Rejections cannot grow the audit trail, nor dodge the rate limit
    # ------------------------------------------------------------------

    def test_bad_requests_of_a_partner_count_against_its_rate_limit(self):
        self.partner.rate_limit = 5
        self.partner.invalidate_recordset()
        before = self.rejected_events(partner_code=self.partner.code)
        statuses = []
        for _index in range(40):
            headers, body = self.signed(b'{"note": ')
            statuses.append(self.url_open(URL, data=body, headers=headers).status_code)
        self.assertEqual(set(statuses), {400, 429}, statuses)
        # a minute may end during the loop: at most two windows of 5
        self.assertLessEqual(statuses.count(400), 10, statuses)
        self.assertGreaterEqual(statuses.count(429), 30, statuses)
        events = self.rejected_events(partner_code=self.partner.code) - before
        # one per code (malformed_json, rate_limited) and minute
        self.assertLessEqual(len(events), 4, events.mapped("summary"))
        rows = self.env["integration.gateway.rejection"].search(
            [("partner_id", "=", self.partner.id)]
        )
        self.assertEqual(sum(rows.mapped("count")), 40)
        self.assertEqual(set(rows.mapped("code")), {"malformed_json", "rate_limited"})

    def test_ipv6_callers_are_counted_per_64(self):
        before = self.rejected_events()
        with patch.dict(config.options, {"proxy_mode": True}):
            for index in range(30):
                response = self.unsigned(f"2001:db8:0:7::{index + 1:x}")
                self.assertEqual(response.status_code, 401, response.text)
        self.assertLessEqual(len(self.rejected_events() - before), 2)
        rows = self.env["integration.gateway.rejection"].search(
            [("source", "=", "2001:db8:0:7::/64")]
        )
        self.assertEqual(sum(rows.mapped("count")), 30)

    def test_unauthenticated_events_are_capped_per_minute(self):
        """Forged X-Forwarded-For addresses: beyond the cap only the counters grow."""
        self.env["ir.config_parameter"].sudo().set_param(
            "integration_queue.anonymous_rejection_events_per_minute", "3"
        )
        before = self.rejected_events()
        with patch.dict(config.options, {"proxy_mode": True}):
            for index in range(20):
                response = self.unsigned(f"198.51.100.{index + 1}")
                self.assertEqual(response.status_code, 401, response.text)
        # a minute may end during the loop: two minutes' worth at most
        self.assertLessEqual(len(self.rejected_events() - before), 6)
        rows = self.env["integration.gateway.rejection"].search(
            [("source", "=like", "198.51.100.%")]
        )
        self.assertEqual(len(set(rows.mapped("source"))), 20)
        self.assertEqual(sum(rows.mapped("count")), 20)

    # ------------------------------------------------------------------
    # 3. Nobody files events under another's trace
    # ------------------------------------------------------------------

    def test_partner_cannot_join_a_trace_of_users_events(self):
        self.env["integration.audit.event"]._log(
            "manual_action", "A user's work", correlation_id="user-trace-4711"
        )
        headers, body = self.signed({"note": "x"})
        headers["X-Correlation-ID"] = "user-trace-4711"
        response = self.url_open(URL, data=body, headers=headers)
        self.assertEqual(response.status_code, 202, response.text)
        used = response.json()["correlation_id"]
        self.assertNotEqual(used, "user-trace-4711")
        self.assertEqual(response.headers["X-Correlation-ID"], used)
        events = self.env["integration.audit.event"].search(
            [("correlation_id", "=", "user-trace-4711")]
        )
        self.assertEqual(events.mapped("partner_code"), [False])

    def test_partner_keeps_its_own_trace_across_messages(self):
        headers, body = self.signed({"note": "first"})
        headers["X-Correlation-ID"] = "ehr-batch-0815"
        first = self.url_open(URL, data=body, headers=headers)
        self.assertEqual(first.json()["correlation_id"], "ehr-batch-0815")
        headers, body = self.signed({"note": "second"})
        headers["X-Correlation-ID"] = "ehr-batch-0815"
        second = self.url_open(URL, data=body, headers=headers)
        self.assertEqual(second.status_code, 202, second.text)
        self.assertEqual(second.json()["correlation_id"], "ehr-batch-0815")
        self.assertEqual(second.headers["X-Correlation-ID"], "ehr-batch-0815")

    def test_rpc_context_cannot_file_events_under_a_partners_trace(self):
        headers, body = self.signed({"note": "victim"})
        victim = self.url_open(URL, data=body, headers=headers).json()["correlation_id"]
        self.authenticate("rh_iq_manager", "rh_iq_manager")
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": "integration.partner",
                        "method": "write",
                        "args": [self.partner.ids, {"rate_limit": 777}],
                        "kwargs": {"context": {"correlation_id": victim}},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertNotIn("error", response.json(), response.text)
        event = self.partner_events().sorted("id")[-1:]
        self.assertIn("rate_limit", self.changed_fields(event))
        self.assertNotEqual(event.correlation_id, victim)
        self.assertEqual(event.correlation_id, response.headers["X-Correlation-ID"])
        victim_events = self.env["integration.audit.event"].search(
            [("correlation_id", "=", victim)]
        )
        self.assertTrue(victim_events)
        self.assertEqual(set(victim_events.mapped("partner_code")), {self.partner.code})
        self.assertNotIn(self.iq_manager, victim_events.mapped("user_id"))

    def rpc_with_header(self, cid, rate_limit):
        return self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": "integration.partner",
                        "method": "write",
                        "args": [self.partner.ids, {"rate_limit": rate_limit}],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json", "X-Correlation-ID": cid},
        )

    def test_signed_in_user_cannot_name_a_partners_trace_in_the_header(self):
        headers, body = self.signed({"note": "victim"})
        victim = self.url_open(URL, data=body, headers=headers).json()["correlation_id"]
        self.authenticate("rh_iq_manager", "rh_iq_manager")
        response = self.rpc_with_header(victim, 778)
        self.assertNotIn("error", response.json(), response.text)
        self.assertNotEqual(response.headers["X-Correlation-ID"], victim)
        victim_events = self.env["integration.audit.event"].search(
            [("correlation_id", "=", victim)]
        )
        self.assertNotIn(self.iq_manager, victim_events.mapped("user_id"))
        # his own trace he keeps, request after request
        for rate_limit in (779, 780):
            response = self.rpc_with_header("im-run-1", rate_limit)
            self.assertEqual(response.headers["X-Correlation-ID"], "im-run-1")
        events = self.env["integration.audit.event"].search([("correlation_id", "=", "im-run-1")])
        self.assertEqual(len(events), 2)
        self.assertEqual(events.user_id, self.iq_manager)

    # ------------------------------------------------------------------
    # 4. Callers' addresses are for administrators
    # ------------------------------------------------------------------

    def test_rejection_counts_are_purged_with_the_messages(self):
        self.env.cr.execute(
            "INSERT INTO integration_gateway_rejection (source, code, minute, count) VALUES"
            " ('192.0.2.1', 'anonymous', (now() at time zone 'UTC') - interval '400 days', 3),"
            " ('192.0.2.2', 'anonymous', (now() at time zone 'UTC'), 1)"
        )
        self.env["integration.job"]._cron_purge_done()
        rows = self.env["integration.gateway.rejection"].search(
            [("source", "in", ("192.0.2.1", "192.0.2.2"))]
        )
        self.assertEqual(rows.mapped("source"), ["192.0.2.2"])

    def test_integration_manager_cannot_read_rejected_callers(self):
        self.env["integration.gateway"]._count_anonymous_rejection("203.0.113.9")
        self.authenticate("rh_iq_manager", "rh_iq_manager")
        self.assertRefused("integration.gateway.rejection", "search_read", [], ["source"])
        self.authenticate("admin", "admin")
        result, error = self.rpc("integration.gateway.rejection", "search_read", [], ["source"])
        self.assertIsNone(error, error)
        self.assertIn("203.0.113.9", [row["source"] for row in result])
