import json

from odoo.tests import tagged

from ..audit_switch import audit_suspended
from .common import AuditRpcCase, FakeModelsMixin

RECORD = "integration.audit.test.record"

# Every context key that ever switched auditing or tracking off, and a few a
# hostile client would try next.
HOSTILE_CONTEXT = {
    "audit_disabled": True,
    "audit_skip": True,
    "no_audit": True,
    "tracking_disable": True,
    "mail_notrack": True,
    "mail_create_nolog": True,
    "active_test": False,
}


@tagged("post_install", "-at_install")
class TestAuditSwitch(FakeModelsMixin, AuditRpcCase):
    """No client can switch auditing off; only a `with` block in server code can.

    Record changes are made on a model of the tests' own (tests/models.py), a
    mail.thread that internal users may edit, so the tracking keys above are
    ones its own chatter honours.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_fake_models()
        cls.rule = cls._create_audit_rule(RECORD, name="Test records (switch test)")
        cls.plain_user = cls.audit_user("switch_user", "")
        cls.manager = cls.audit_user("switch_manager", "integration_audit.group_audit_manager")
        cls.viewer = cls.audit_user("switch_viewer", "integration_audit.group_audit_viewer")
        cls.record = cls.Record.create({"name": "Ward 7 supplies", "ref": "W7"})

    def test_client_context_keys_do_not_silence_record_audit(self):
        self.login(self.plain_user)
        self.call(
            RECORD,
            "write",
            [self.record.id],
            {"ref": "W7-changed"},
            context=HOSTILE_CONTEXT,
        )
        new_id = self.call(RECORD, "create", {"name": "Silent?"}, context=HOSTILE_CONTEXT)
        self.call(RECORD, "unlink", [new_id], context=HOSTILE_CONTEXT)
        changed = self.events(res_model=RECORD, res_id=self.record.id, event_type="record_changed")
        self.assertEqual(len(changed), 1)
        self.assertEqual(changed.user_id, self.plain_user)
        self.assertIn("W7-changed", changed.details)
        self.assertEqual(
            self.events(res_model=RECORD, res_id=new_id).mapped("event_type"),
            ["record_created", "record_deleted"],
        )

    def test_server_code_suspends_record_audit_only_in_its_block(self):
        with audit_suspended():
            self.record.write({"ref": "quiet"})
        self.assertFalse(
            self.events(res_model=RECORD, res_id=self.record.id, event_type="record_changed")
        )
        self.record.write({"ref": "loud"})
        self.assertTrue(
            self.events(res_model=RECORD, res_id=self.record.id, event_type="record_changed")
        )

    def test_audit_configuration_is_audited_even_when_suspended(self):
        with audit_suspended():
            self.rule.write({"log_write": False})
        self.assertTrue(
            self.events(
                res_model="integration.audit.rule",
                res_id=self.rule.id,
                event_type="config_change",
            ).filtered(lambda e: "log_write" in e.details)
        )

    def test_audit_manager_deactivates_and_reactivates_a_rule_with_events(self):
        self.login(self.manager)
        self.call(
            "integration.audit.rule", "action_archive", [self.rule.id], context=HOSTILE_CONTEXT
        )
        self.assertFalse(self.rule.active)
        self.call(
            "integration.audit.rule", "action_unarchive", [self.rule.id], context=HOSTILE_CONTEXT
        )
        self.call(
            "integration.audit.rule",
            "write",
            [self.rule.id],
            {"active": False},
            context=HOSTILE_CONTEXT,
        )
        self.call("integration.audit.rule", "write", [self.rule.id], {"active": True})
        self.rule.invalidate_recordset()
        self.assertTrue(self.rule.active)
        self.assertTrue(self.rule.action_id, "reactivation restores the trace action")
        moves = [
            change["new"]
            for event in self.events(
                res_model="integration.audit.rule", res_id=self.rule.id, event_type="config_change"
            )
            for change in json.loads(event.details)["changes"]
            if change["field"] == "active"
        ]
        self.assertEqual(moves, [False, True, False, True])
        self.assertEqual(
            set(
                self.events(res_model="integration.audit.rule", res_id=self.rule.id)
                .filtered(lambda e: e.event_type == "config_change")
                .mapped("user_id")
            )
            - {self.env.user},
            {self.manager},
        )

    def test_switching_off_the_rule_on_rules_still_audits_rules(self):
        rules_rule = self.env.ref("integration_audit.rule_integration_audit_rule")
        self.login(self.manager)
        self.call("integration.audit.rule", "write", [rules_rule.id], {"active": False})
        self.call("integration.audit.rule", "write", [self.rule.id], {"log_unlink": False})
        self.call("integration.audit.rule", "write", [rules_rule.id], {"active": True})
        self.assertTrue(
            self.events(
                res_model="integration.audit.rule", res_id=self.rule.id, event_type="config_change"
            ).filtered(lambda e: "log_unlink" in e.details)
        )
        switched = self.events(
            res_model="integration.audit.rule", res_id=rules_rule.id, event_type="config_change"
        ).filtered(lambda e: '"active"' in e.details)
        self.assertEqual(len(switched), 2)

    def test_viewer_and_plain_user_cannot_switch_a_rule(self):
        for user in (self.viewer, self.plain_user):
            self.login(user)
            for method, args in (
                ("write", ([self.rule.id], {"active": False})),
                ("action_archive", ([self.rule.id],)),
                ("unlink", ([self.rule.id],)),
                ("create", ({"name": "x", "model_id": self.rule.model_id.id},)),
            ):
                name, _message = self.call_error("integration.audit.rule", method, *args)
                self.assertEqual(name, "odoo.exceptions.AccessError", (user.login, method))
        self.assertTrue(self.rule.active)

    def test_partner_code_from_client_context_is_ignored(self):
        self.login(self.plain_user)
        self.call(
            RECORD,
            "write",
            [self.record.id],
            {"ref": "spoofed"},
            context={"integration_partner_code": "SUPPLIER-X"},
        )
        event = self.events(res_model=RECORD, res_id=self.record.id, event_type="record_changed")
        self.assertFalse(event.partner_code)
