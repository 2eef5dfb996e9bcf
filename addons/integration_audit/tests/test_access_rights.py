import base64

from odoo.tests import tagged

from .common import AuditRpcCase

ACCESS_ERROR = "odoo.exceptions.AccessError"


@tagged("post_install", "-at_install")
class TestAccessRights(AuditRpcCase):
    """The permission matrix of readme/CONFIGURE.md, walked over JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Hospital Group B"})
        cls.plain = cls.audit_user("acl_plain", "")
        cls.viewer = cls.audit_user("acl_viewer", "integration_audit.group_audit_viewer")
        cls.manager = cls.audit_user("acl_manager", "integration_audit.group_audit_manager")
        cls.viewer_b = cls.audit_user(
            "acl_viewer_b", "integration_audit.group_audit_viewer", company=cls.company_b
        )
        cls.event_a = cls.Event._append(
            [{"event_type": "manual_action", "summary": "A only", "company_id": cls.company_a.id}]
        )
        cls.event_b = cls.Event._append(
            [{"event_type": "manual_action", "summary": "B only", "company_id": cls.company_b.id}]
        )
        cls.Event._seal_pending()
        Hold = cls.env["integration.audit.legal.hold"]
        cls.hold_a = Hold.create({"name": "Hold A", "reason": "a", "company_id": cls.company_a.id})
        cls.hold_b = Hold.create({"name": "Hold B", "reason": "b", "company_id": cls.company_b.id})

    # -- events, seals, holds: read only within one's companies -----------------

    def test_viewer_reads_events_of_own_company_only(self):
        self.login(self.viewer)
        rows = self.call(
            "integration.audit.event",
            "search_read",
            [("id", "in", (self.event_a | self.event_b).ids)],
            ["summary", "company_id"],
        )
        self.assertEqual([row["summary"] for row in rows], ["A only"])
        name, _message = self.call_error(
            "integration.audit.event", "read", self.event_b.ids, ["summary"]
        )
        self.assertEqual(name, ACCESS_ERROR)
        self.login(self.viewer_b)
        rows = self.call(
            "integration.audit.event",
            "search_read",
            [("id", "in", (self.event_a | self.event_b).ids)],
            ["summary"],
        )
        self.assertEqual([row["summary"] for row in rows], ["B only"])

    def test_viewer_cannot_widen_companies_through_the_context(self):
        self.login(self.viewer)
        name, _message = self.call_error(
            "integration.audit.event",
            "search_read",
            [("id", "=", self.event_b.id)],
            ["summary"],
            context={"allowed_company_ids": [self.company_a.id, self.company_b.id]},
        )
        self.assertEqual(name, ACCESS_ERROR)

    def test_viewer_reads_seals_of_own_company_only(self):
        self.login(self.viewer)
        rows = self.call(
            "integration.audit.seal",
            "search_read",
            [("event_id", "in", (self.event_a | self.event_b).ids)],
            ["event_id", "chain_hash"],
        )
        self.assertEqual([row["event_id"] for row in rows], self.event_a.ids)

    def test_legal_holds_of_other_companies_are_invisible(self):
        self.login(self.manager)
        rows = self.call(
            "integration.audit.legal.hold",
            "search_read",
            [("id", "in", (self.hold_a | self.hold_b).ids)],
            ["name"],
        )
        self.assertEqual([row["name"] for row in rows], ["Hold A"])
        name, _message = self.call_error(
            "integration.audit.legal.hold",
            "create",
            {"name": "Hold in B", "reason": "x", "company_id": self.company_b.id},
        )
        self.assertEqual(name, ACCESS_ERROR)

    def test_export_holds_only_the_callers_companies(self):
        self.login(self.manager)
        wizard_id = self.call(
            "integration.audit.export",
            "create",
            {"correlation_id": self.event_a.correlation_id},
        )
        self.call("integration.audit.export", "action_export", [wizard_id])
        wizard = self.env["integration.audit.export"].browse(wizard_id)
        exported = base64.b64decode(wizard.export_file).decode()
        self.assertIn('"A only"', exported)
        self.assertNotIn('"B only"', exported)

    # -- buttons check their group -------------------------------------------------

    def test_legal_holds_are_managed_by_audit_managers_only(self):
        for user in (self.plain, self.viewer):
            self.login(user)
            for method, args in (
                ("create", ({"name": "x", "reason": "y"},)),
                ("write", (self.hold_a.ids, {"reason": "lifted"})),
                ("action_archive", (self.hold_a.ids,)),
                ("unlink", (self.hold_a.ids,)),
            ):
                name, _message = self.call_error("integration.audit.legal.hold", method, *args)
                self.assertEqual(name, ACCESS_ERROR, (user.login, method))
        self.assertTrue(self.hold_a.active)
        self.login(self.manager)
        self.call("integration.audit.legal.hold", "action_archive", self.hold_a.ids)
        self.assertFalse(self.hold_a.active)
        self.assertTrue(
            self.events(
                res_model="integration.audit.legal.hold",
                res_id=self.hold_a.id,
                event_type="config_change",
            ).filtered(lambda e: e.user_id == self.manager)
        )

    def test_verify_is_for_audit_managers(self):
        wizard = self.env["integration.audit.verify"].create({})
        for user in (self.plain, self.viewer):
            self.login(user)
            name, message = self.call_error("integration.audit.verify", "action_verify", wizard.ids)
            self.assertEqual(name, ACCESS_ERROR)
            self.assertIn("Audit Manager", message)
            name, _message = self.call_error("integration.audit.verify", "create", {})
            self.assertEqual(name, ACCESS_ERROR)
        self.assertFalse(self.events(summary="Audit chain verified: intact"))
        self.login(self.manager)
        own = self.call("integration.audit.verify", "create", {})
        self.call("integration.audit.verify", "action_verify", [own])
        self.assertEqual(self.env["integration.audit.verify"].browse(own).state, "ok")

    def test_export_is_for_audit_managers(self):
        wizard = self.env["integration.audit.export"].create(
            {"correlation_id": self.event_b.correlation_id}
        )
        for user in (self.plain, self.viewer):
            self.login(user)
            name, message = self.call_error("integration.audit.export", "action_export", wizard.ids)
            self.assertEqual(name, ACCESS_ERROR)
            self.assertIn("Audit Manager", message)
        self.assertFalse(wizard.export_file)

    def test_traces_are_for_audit_viewers(self):
        self.login(self.plain)
        name, message = self.call_error(
            "integration.audit.event", "action_open_trace", self.event_a.ids
        )
        self.assertEqual(name, ACCESS_ERROR)
        self.assertIn("Audit Viewer", message)
        name, _message = self.call_error(
            "integration.audit.event", "action_trace_records", [self.plain.partner_id.id]
        )
        self.assertEqual(name, ACCESS_ERROR)
        self.login(self.viewer)
        action = self.call("integration.audit.event", "action_open_trace", self.event_a.ids)
        self.assertEqual(action["res_model"], "integration.audit.event")
        name, message = self.call_error(
            "integration.audit.event", "action_trace_records", [self.plain.partner_id.id]
        )
        self.assertEqual(name, "odoo.exceptions.UserError")
        self.assertIn("records", message)

    def test_nobody_writes_events_over_rpc(self):
        self.login(self.manager)
        for method, args in (
            ("create", ({"event_type": "manual_action", "summary": "forged"},)),
            ("write", (self.event_a.ids, {"summary": "rewritten"})),
            ("unlink", (self.event_a.ids,)),
            ("copy", (self.event_a.ids,)),
            ("_log", ("manual_action", "forged")),
            ("_append", ([{"event_type": "manual_action"}],)),
            ("_purge_batch", ("2100-01-01 00:00:00",)),
            ("_seal_pending", ()),
            ("init", ()),
        ):
            name, _message = self.call_error("integration.audit.event", method, *args)
            self.assertEqual(name, ACCESS_ERROR, method)
        for model, method in (
            ("integration.audit.seal", "create"),
            ("integration.audit.pending", "unlink"),
        ):
            args = ({"sequence": 1},) if method == "create" else ([1],)
            name, _message = self.call_error(model, method, *args)
            self.assertEqual(name, ACCESS_ERROR, (model, method))
        self.assertFalse(self.events(summary="forged"))
