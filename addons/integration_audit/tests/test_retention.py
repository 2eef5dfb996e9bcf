import json
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import AuditCase


@tagged("post_install", "-at_install")
class TestRetention(AuditCase):
    @classmethod
    def _setup_records(cls):
        cls.kept_cid = "hold-" + cls.__name__
        cls.purged = cls.Event.browse()
        for index in range(4):
            cls.purged |= cls.Event._log("manual_action", f"old event {index}")
        cls.held = cls.Event._log("manual_action", "held event", correlation_id=cls.kept_cid)
        cls.env["integration.audit.legal.hold"].create(
            {
                "name": "Recall 2026-14",
                "reason": "Regulator inquiry",
                "correlation_id": cls.kept_cid,
            }
        )
        cls.Event._seal_pending()

    def purge_all_sealed(self):
        # every event so far is "older" than a cutoff in the future
        cutoff = fields.Datetime.now() + timedelta(days=1)
        total = 0
        while purged := self.Event._purge_batch(cutoff, batch_size=1000):
            total += purged
        return total

    def test_purge_removes_old_events_but_not_held_ones(self):
        self.purge_all_sealed()
        self.assertFalse(self.purged.exists())
        self.assertTrue(self.held.exists())

    def test_purge_leaves_checkpoint_and_chain_still_verifies(self):
        self.purge_all_sealed()
        checkpoints = self.Event.search([("event_type", "=", "retention_purge")])
        self.assertTrue(checkpoints)
        ranges = [r for cp in checkpoints for r in json.loads(cp.details)["purged_ranges"]]
        for event_id in self.purged.ids:
            self.assertTrue(any(first <= event_id <= last for first, last in ranges))
        self.Event._seal_pending()
        report = self.Event._verify_chain()
        self.assertTrue(report["ok"], report)

    def test_unsealed_events_are_not_purged(self):
        fresh = self.Event._log("manual_action", "not sealed yet")
        self.purge_all_sealed()
        self.assertTrue(fresh.exists())

    def test_released_hold_lets_the_purge_proceed(self):
        self.env["integration.audit.legal.hold"].search([]).action_archive()
        self.purge_all_sealed()
        self.assertFalse(self.held.exists())

    def test_cron_uses_configured_retention_days(self):
        self.env["ir.config_parameter"].sudo().set_param("integration_audit.retention_days", "30")
        self.assertEqual(self.Event._retention_days(), 30)
