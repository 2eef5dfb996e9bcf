from markupsafe import Markup

from odoo.tests import tagged

from .common import HealthcareCase

XSS = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@tagged("post_install", "-at_install")
class TestPartnerTextIsEscaped(HealthcareCase):
    """What a partner writes reaches notes and chatter as text, never as markup."""

    def assertEscaped(self, html):
        html = str(html or "")
        self.assertIn(ESCAPED, html)
        self.assertNotIn("<img", html)

    def test_consumption_reference_and_cost_center_in_shortfall_alert(self):
        message = self.process(
            "inventory.consumption",
            {
                "facility": "T-HOSP",
                "occurred_at": "2026-11-01T08:00:00Z",
                "reference": XSS,
                "cost_center": XSS,
                "lines": [{"item": "T-GLV", "quantity": 3}],
            },
        )
        self.assertEqual(message.state, "done", message.error)
        alert = self.env["healthcare.stock.alert"].search(
            [("alert_type", "=", "consumption_shortfall"), ("warehouse_id", "=", self.hospital.id)]
        )
        self.assertIn(XSS, alert.name)  # plain text field, shown as text
        self.assertTrue(alert.activity_ids)
        for activity in alert.activity_ids:
            self.assertEscaped(activity.note)

    def test_unknown_item_and_lot_in_exception_note(self):
        item = self.snapshot(self.hospital, [{"item": XSS, "quantity": 1}])
        self.assertEqual(item.state, "exception")
        self.assertTrue(item.activity_ids)
        for activity in item.activity_ids:
            self.assertEscaped(activity.note)
        lot = self.process(
            "inventory.receipt",
            {
                "facility": "T-HOSP",
                "received_at": "2026-11-01T08:00:00Z",
                "reference": XSS,
                "lines": [{"item": "T-NACL", "lot": XSS, "expiry": self.in_days(2), "quantity": 1}],
            },
        )
        self.assertEqual(lot.state, "exception")
        for activity in lot.activity_ids:
            self.assertEscaped(activity.note)

    def test_transfer_note_and_chatter_are_escaped(self):
        self.central.facility_manager_id = self.steward
        message = self.process(
            "inventory.transfer_request",
            {
                "from_facility": "T-CENTRAL",
                "to_facility": "T-HOSP",
                "priority": "emergency",
                "lines": [{"item": "T-GLV", "quantity": 1}],
            },
        )
        picking = self.env["stock.picking"].browse(
            message.link_ids.filtered(lambda link: link.res_model == "stock.picking").res_id
        )
        # a partner-supplied note passed to the facility manager's notification
        self.central._notify_manager("Emergency", f"{XSS} needs gloves", picking)
        activities = picking.activity_ids.filtered(lambda a: a.user_id == self.steward)
        self.assertTrue(activities)
        hostile = activities.filtered(lambda a: "onerror" in (a.note or ""))
        self.assertTrue(hostile)
        for activity in hostile:
            self.assertEscaped(activity.note)
        posted = picking.message_ids.filtered(lambda m: "onerror" in (m.body or ""))
        self.assertTrue(posted)
        for chatter in posted:
            self.assertEscaped(chatter.body)
        self.assertIsInstance(posted[0].body, Markup)

    def test_markup_in_a_date_field_never_reaches_the_transfer_note(self):
        # needed_by is a date-time: markup there is refused at the gateway (400)
        answer = self.receive(
            {
                "from_facility": "T-CENTRAL",
                "to_facility": "T-HOSP",
                "priority": "emergency",
                "needed_by": XSS,
                "lines": [{"item": "T-GLV", "quantity": 1}],
            },
            message_type="inventory.transfer_request",
        )
        self.assertEqual(answer.status, 400, answer.body)
        self.assertEqual(answer.body["error"]["field"], "needed_by")
