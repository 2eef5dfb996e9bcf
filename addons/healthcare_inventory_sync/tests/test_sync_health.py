from datetime import timedelta

from odoo import fields
from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestSyncHealth(HealthcareCase):
    """Sync Health lists every facility, also those that never reported."""

    def facilities(self, domain=()):
        action = self.env.ref("healthcare_inventory_sync.stock_warehouse_sync_health_action")
        self.assertEqual(action.res_model, "stock.warehouse")
        return self.env["stock.warehouse"].search(safe_eval(action.domain) + list(domain))

    def test_facility_that_never_reported_is_listed_as_never(self):
        self.hospital.sync_interval_minutes = 60
        listed = self.facilities()
        self.assertIn(self.hospital, listed)
        self.assertEqual(self.hospital.sync_status, "never")
        self.assertFalse(self.hospital.sync_last_message_at)
        self.assertIn(self.hospital, self.facilities([("sync_status", "=", "never")]))

    def test_last_message_and_interval_of_a_reporting_facility(self):
        self.central.sync_interval_minutes = 60
        self.snapshot(self.central, [{"item": "T-GLV", "quantity": 1}])
        self.central.invalidate_recordset(["sync_last_message_at", "sync_status"])
        self.assertTrue(self.central.sync_last_message_at)
        self.assertEqual(self.central.sync_status, "ok")
        self.assertIn(self.central, self.facilities([("sync_status", "=", "ok")]))
        self.assertNotIn(self.central, self.facilities([("sync_status", "=", "never")]))

    def test_silence_alert_says_never_not_since_ever(self):
        self.hospital.sync_interval_minutes = 60
        self.env["healthcare.facility.sync.state"]._cron_check_silence()
        alert = self.env["healthcare.stock.alert"].search(
            [("alert_type", "=", "silent_facility"), ("warehouse_id", "=", self.hospital.id)]
        )
        self.assertIn("has never sent a message", alert.name)
        self.assertNotIn("ever (", alert.name)

    def test_silent_facility_shows_its_last_message(self):
        self.central.sync_interval_minutes = 60
        state = self.env["healthcare.facility.sync.state"]._get(self.central, self.partner)
        state.last_message_at = fields.Datetime.now() - timedelta(hours=3)
        self.central.invalidate_recordset(["sync_last_message_at", "sync_status"])
        self.assertEqual(self.central.sync_status, "silent")
