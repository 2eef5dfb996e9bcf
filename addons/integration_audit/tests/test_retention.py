import json
from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import config

from .common import AuditCase

RETENTION_DAYS = 30


@tagged("post_install", "-at_install")
class TestRetention(AuditCase):
    @classmethod
    def _setup_records(cls):
        cls.set_retention_floor(1)
        cls.env["ir.config_parameter"].sudo().set_param(
            "integration_audit.retention_days", str(RETENTION_DAYS)
        )
        cls.kept_cid = "hold-" + cls.__name__
        cls.purged = cls.Event.browse()
        for index in range(4):
            cls.purged |= cls.Event._log("manual_action", f"old event {index}")
        cls.held = cls.Event._log("manual_action", "held event", correlation_id=cls.kept_cid)
        # written long ago, sealed since
        cls.backdate(cls.purged | cls.held, RETENTION_DAYS * 2)
        cls.env["integration.audit.legal.hold"].create(
            {
                "name": "Recall 2026-14",
                "reason": "Regulator inquiry",
                "correlation_id": cls.kept_cid,
            }
        )
        cls.Event._seal_pending()

    def cutoff(self, days=RETENTION_DAYS):
        # the database's clock, as the purge's own
        self.env.cr.execute("SELECT now() at time zone 'UTC'")
        return self.env.cr.fetchone()[0] - timedelta(days=days)

    def purge_all_sealed(self):
        total = 0
        while purged := self.Event._purge_batch(self.cutoff(), batch_size=1000):
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
        details = [json.loads(cp.details) for cp in checkpoints]
        ranges = [r for detail in details for r in detail["purged_ranges"]]
        for event_id in self.purged.ids:
            self.assertTrue(any(first <= event_id <= last for first, last in ranges))
        self.assertEqual({detail["retention_days"] for detail in details}, {RETENTION_DAYS})
        self.Event._seal_pending()
        report = self.Event._verify_chain()
        self.assertTrue(report["ok"], report)

    def test_purge_refuses_a_cutoff_inside_retention(self):
        with self.assertRaisesRegex(UserError, "cutoff"):
            self.Event._purge_batch(self.cutoff(RETENTION_DAYS - 1))
        self.assertTrue(self.purged.exists())

    def test_unsealed_events_are_not_purged(self):
        fresh = self.Event._log("manual_action", "not sealed yet")
        self.backdate(fresh, RETENTION_DAYS * 2)
        self.purge_all_sealed()
        self.assertTrue(fresh.exists())

    def test_recent_events_are_not_purged(self):
        recent = self.Event._log("manual_action", "written today")
        self.Event._seal_pending()
        self.purge_all_sealed()
        self.assertTrue(recent.exists())

    def test_released_hold_lets_the_purge_proceed(self):
        self.env["integration.audit.legal.hold"].search([]).action_archive()
        self.purge_all_sealed()
        self.assertFalse(self.held.exists())

    def test_retention_parameter_cannot_go_below_the_file_floor(self):
        self.startPatcher(patch.dict(config.options, {"audit_min_retention_days": 365}))
        self.env["ir.config_parameter"].sudo().set_param("integration_audit.retention_days", "1")
        self.assertEqual(self.Event._retention_days(), 365)
        with self.assertRaisesRegex(UserError, "365 days"):
            self.Event._purge_batch(self.cutoff(RETENTION_DAYS))
        self.assertTrue(self.purged.exists())

    def test_cron_uses_configured_retention_days(self):
        self.env["ir.config_parameter"].sudo().set_param("integration_audit.retention_days", "45")
        self.assertEqual(self.Event._retention_days(), 45)
