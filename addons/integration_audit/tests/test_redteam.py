import json

from odoo.tests import HttpCase, new_test_user, tagged

from ..correlation import MAX_LENGTH, clean_correlation_id


@tagged("post_install", "-at_install")
class TestAuditRedTeam(HttpCase):
    """What got through a red-team pass over JSON-RPC, each refused now."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Red Team Company B"})
        common = {"company_id": cls.company_a.id, "company_ids": [(6, 0, cls.company_a.ids)]}
        cls.audit_manager = new_test_user(
            cls.env,
            "rt_audit_manager",
            password="rt_audit_manager-pass-1234",
            groups="base.group_user,integration_audit.group_audit_manager",
            **common,
        )
        cls.clerk = new_test_user(
            cls.env,
            "rt_clerk",
            password="rt_clerk-pass-1234",
            groups="base.group_user",
            **common,
        )
        users_model = cls.env.ref("base.model_res_users")
        rule = cls.env["integration.audit.rule"].with_context(active_test=False)
        rule = rule.search([("model_id", "=", users_model.id)]) or rule.create(
            {"name": "Users (red team)", "model_id": users_model.id}
        )
        rule.write(
            {
                "active": True,
                "log_write": True,
                "domain": "[]",
                "field_ids": [(6, 0, cls.env.ref("base.field_res_users__signature").ids)],
            }
        )

    def rpc(self, login, model, method, *args, **kwargs):
        """Call over /web/dataset/call_kw as ``login``: (result, error data, response)."""
        self.authenticate(login, login + "-pass-1234")
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": model,
                        "method": method,
                        "args": list(args),
                        "kwargs": kwargs,
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        return body.get("result"), (body.get("error") or {}).get("data"), response

    def test_client_context_cannot_inject_a_correlation_id(self):
        """A newline and 10 KB sent as ``correlation_id`` in the RPC context never
        reach an event: the request's own correlation ID is used instead."""
        evil = "a\r\nFORGED audit line " + "y" * 10000
        result, error, response = self.rpc(
            "rt_clerk",
            "res.users",
            "write",
            [self.clerk.id],
            {"signature": "<p>changed</p>"},
            context={"correlation_id": evil},
        )
        self.assertIsNone(error, error)
        self.assertTrue(result)
        event = self.env["integration.audit.event"].search(
            [("res_model", "=", "res.users"), ("res_id", "=", self.clerk.id)],
            order="id desc",
            limit=1,
        )
        self.assertTrue(event, "the signature change was not audited")
        self.assertEqual(clean_correlation_id(event.correlation_id), event.correlation_id)
        self.assertLessEqual(len(event.correlation_id), MAX_LENGTH)
        self.assertNotIn("FORGED", event.correlation_id)
        self.assertEqual(event.correlation_id, response.headers["X-Correlation-ID"])

    def test_audit_manager_cannot_hand_a_legal_hold_to_another_company(self):
        """Moving a hold to a company he is not in would silently lift it for his
        own company's events and hide it from him."""
        hold, error, _response = self.rpc(
            "rt_audit_manager",
            "integration.audit.legal.hold",
            "create",
            {"name": "Recall 2026-11", "reason": "regulator inquiry"},
        )
        self.assertIsNone(error, error)
        _result, error, _response = self.rpc(
            "rt_audit_manager",
            "integration.audit.legal.hold",
            "write",
            [hold],
            {"company_id": self.company_b.id},
        )
        self.assertEqual(error and error["name"], "odoo.exceptions.AccessError", error)
        self.assertIn("company_id", error["message"])
        held = self.env["integration.audit.legal.hold"].browse(hold)
        self.assertEqual(held.company_id, self.company_a)
        self.assertTrue(held.active)

    def test_viewer_sees_no_values_of_models_he_cannot_read(self):
        """An Audit Viewer reads every event of his companies, but not the old and
        new values of records he may not read; an Audit Manager reads them."""
        new_test_user(
            self.env,
            "rt_viewer",
            password="rt_viewer-pass-1234",
            groups="base.group_user,integration_audit.group_audit_viewer",
            company_id=self.company_a.id,
            company_ids=[(6, 0, self.company_a.ids)],
        )
        parameter = (
            self.env["ir.config_parameter"].sudo().create({"key": "rt.secret", "value": "s3cr3t"})
        )
        event = (
            self.env["integration.audit.event"]
            .sudo()
            ._log(
                "record_changed",
                "Changed value",
                records=parameter,
                details={"changes": [{"field": "value", "old": "s3cr3t", "new": "other"}]},
            )
        )
        fields_ = ["details", "details_html", "summary"]
        rows, error, _response = self.rpc(
            "rt_viewer", "integration.audit.event", "read", event.ids, fields_
        )
        self.assertIsNone(error, error)
        self.assertNotIn("s3cr3t", json.dumps(rows))
        self.assertIn("Hidden", rows[0]["details"])
        rows, error, _response = self.rpc(
            "rt_audit_manager", "integration.audit.event", "read", event.ids, fields_
        )
        self.assertIsNone(error, error)
        self.assertIn("s3cr3t", rows[0]["details"])

    def test_only_audit_managers_export_the_values_events_carry(self):
        new_test_user(
            self.env,
            "rt_viewer2",
            password="rt_viewer2-pass-1234",
            groups="base.group_user,base.group_allow_export,integration_audit.group_audit_viewer",
            company_id=self.company_a.id,
            company_ids=[(6, 0, self.company_a.ids)],
        )
        # both may export in general: the refusal below is the audit's own
        self.audit_manager.groups_id |= self.env.ref("base.group_allow_export")
        event = self.env["integration.audit.event"].sudo()._log("manual_action", "Exported")
        _result, error, _response = self.rpc(
            "rt_viewer2", "integration.audit.event", "export_data", event.ids, ["details"]
        )
        self.assertIn("AccessError", (error or {}).get("name", ""), error)
        result, error, _response = self.rpc(
            "rt_audit_manager", "integration.audit.event", "export_data", event.ids, ["details"]
        )
        self.assertIsNone(error, error)
        self.assertEqual(len(result["datas"]), 1)
