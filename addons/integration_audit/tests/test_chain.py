from odoo.tests import tagged

from .common import AuditCase


@tagged("post_install", "-at_install")
class TestChain(AuditCase):
    @classmethod
    def _setup_records(cls):
        cls.logged = cls.Event.browse()
        for index in range(5):
            cls.logged |= cls.Event._log(
                "manual_action", f"chain probe {index}", details={"i": index}
            )
        cls.Event._seal_pending()

    def test_intact_chain_verifies(self):
        report = self.Event._verify_chain()
        self.assertTrue(report["ok"], report)
        self.assertGreaterEqual(report["checked"], 5)
        self.assertTrue(all(self.logged.mapped("chain_hash")))

    def test_sql_change_of_content_is_found(self):
        victim = self.logged[2]
        self.tamper(
            "UPDATE integration_audit_event SET summary = 'nothing happened' WHERE id = %s",
            [victim.id],
        )
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], victim.id)
        self.assertIn("content", report["error"]["reason"])

    def test_sql_delete_of_event_is_found(self):
        victim = self.logged[1]
        self.tamper("DELETE FROM integration_audit_event WHERE id = %s", [victim.id])
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], victim.id)
        self.assertIn("deleted", report["error"]["reason"])

    def test_rewritten_seal_is_found(self):
        victim = self.logged[3]
        self.tamper(
            "UPDATE integration_audit_seal SET event_hash = %s WHERE event_id = %s",
            ["f" * 64, victim.id],
        )
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], victim.id)

    def test_removed_link_is_found(self):
        victim = self.logged[0]
        self.tamper("DELETE FROM integration_audit_seal WHERE event_id = %s", [victim.id])
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertIn("missing link", report["error"]["reason"])

    def test_event_inserted_behind_the_api_is_found(self):
        forged_id = self.tamper(
            "INSERT INTO integration_audit_event (timestamp, event_type, summary)"
            " VALUES (now(), 'manual_action', 'forged') RETURNING id",
            [],
        )[0][0]
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], forged_id)

    def test_sql_change_of_sealed_time_is_found(self):
        victim = self.logged[2]
        self.tamper(
            "UPDATE integration_audit_seal SET event_timestamp = event_timestamp - interval '1 day'"
            " WHERE event_id = %s",
            [victim.id],
        )
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], victim.id)
        self.assertIn("time", report["error"]["reason"])

    def test_sealed_time_dropped_from_a_link_is_found(self):
        victim = self.logged[3]
        self.tamper(
            "UPDATE integration_audit_seal SET event_timestamp = NULL WHERE event_id = %s",
            [victim.id],
        )
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], victim.id)
        self.assertIn("lost the event time", report["error"]["reason"])

    def test_verify_wizard_reports_broken_link(self):
        victim = self.logged[4]
        self.tamper("UPDATE integration_audit_event SET details = '{}' WHERE id = %s", [victim.id])
        wizard = self.env["integration.audit.verify"].create({})
        wizard.action_verify()
        self.assertEqual(wizard.state, "broken")
        self.assertEqual(wizard.broken_event_id, victim.id)
