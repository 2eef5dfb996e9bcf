import json

from odoo.tests import tagged

from .common import AuditCase


@tagged("post_install", "-at_install")
class TestAuditRules(AuditCase):
    @classmethod
    def _setup_records(cls):
        cls.rule = cls.env["integration.audit.rule"].create(
            {
                "name": "Partners",
                "model_id": cls.env.ref("base.model_res_partner").id,
                "field_ids": [
                    (
                        6,
                        0,
                        [
                            cls.env.ref("base.field_res_partner__name").id,
                            cls.env.ref("base.field_res_partner__ref").id,
                            cls.env.ref("base.field_res_partner__parent_id").id,
                            cls.env.ref("base.field_res_partner__child_ids").id,
                            cls.env.ref("base.field_res_partner__category_id").id,
                        ],
                    )
                ],
            }
        )
        cls.category = cls.env["res.partner.category"].create({"name": "Cold chain"})

    def changes(self, event):
        return {change["field"]: change for change in json.loads(event.details)["changes"]}

    def test_create_logs_values_and_one2many_lines(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Central Store",
                "ref": "CS-01",
                "category_id": [(6, 0, self.category.ids)],
                "child_ids": [(0, 0, {"name": "Dock A"}), (0, 0, {"name": "Dock B"})],
            }
        )
        event = self.events(res_model="res.partner", res_id=partner.id)
        self.assertEqual(event.event_type, "record_created")
        self.assertEqual(event.res_name, "Central Store")
        changes = self.changes(event)
        self.assertEqual(changes["ref"]["new"], "CS-01")
        self.assertEqual(changes["category_id"]["new"], self.category.ids)
        self.assertEqual(changes["child_ids"]["new"], sorted(partner.child_ids.ids))
        self.assertEqual(
            [line["values"]["name"] for line in changes["child_ids"]["lines"]], ["Dock A", "Dock B"]
        )
        # children were created through the audited model too: each has its own event
        for child in partner.child_ids:
            self.assertEqual(
                self.events(res_model="res.partner", res_id=child.id).event_type, "record_created"
            )

    def test_write_logs_old_and_new_values_only_for_changed_fields(self):
        partner = self.env["res.partner"].create({"name": "Clinic North", "ref": "CN"})
        partner.write({"ref": "CN-2", "name": "Clinic North"})
        event = self.events(res_model="res.partner", res_id=partner.id, event_type="record_changed")
        self.assertEqual(len(event), 1)
        changes = self.changes(event)
        self.assertEqual(set(changes), {"ref"})
        self.assertEqual((changes["ref"]["old"], changes["ref"]["new"]), ("CN", "CN-2"))

    def test_write_logs_one2many_line_changes_added_and_removed(self):
        partner = self.env["res.partner"].create(
            {
                "name": "Hospital East",
                "child_ids": [(0, 0, {"name": "Ward 1"}), (0, 0, {"name": "Ward 2"})],
            }
        )
        ward1, ward2 = partner.child_ids.sorted("id")
        partner.write(
            {
                "child_ids": [
                    (1, ward1.id, {"name": "Ward 1 (ICU)"}),
                    (2, ward2.id),
                    (0, 0, {"name": "Ward 3"}),
                ]
            }
        )
        event = self.events(res_model="res.partner", res_id=partner.id, event_type="record_changed")
        change = self.changes(event)["child_ids"]
        ward3 = partner.child_ids - ward1
        self.assertEqual(change["added"], ward3.ids)
        self.assertEqual(change["removed"], ward2.ids)
        self.assertEqual(
            change["lines"],
            [{"id": ward1.id, "field": "name", "old": "Ward 1", "new": "Ward 1 (ICU)"}],
        )

    def test_many2many_and_many2one_changes(self):
        parent = self.env["res.partner"].create({"name": "Group HQ"})
        partner = self.env["res.partner"].create({"name": "Pharmacy"})
        partner.write({"parent_id": parent.id, "category_id": [(4, self.category.id)]})
        changes = self.changes(
            self.events(res_model="res.partner", res_id=partner.id, event_type="record_changed")
        )
        self.assertEqual(changes["parent_id"]["new"], [parent.id, "Group HQ"])
        self.assertEqual(changes["category_id"]["added"], self.category.ids)

    def test_unlink_keeps_the_log(self):
        partner = self.env["res.partner"].create({"name": "Temporary lab", "ref": "TL"})
        partner_id = partner.id
        partner.unlink()
        events = self.events(res_model="res.partner", res_id=partner_id)
        self.assertEqual(events.mapped("event_type"), ["record_created", "record_deleted"])
        deleted = events[-1]
        self.assertEqual(deleted.res_name, "Temporary lab")
        self.assertEqual(self.changes(deleted)["ref"]["old"], "TL")

    def test_unaudited_fields_and_disabled_operations_are_silent(self):
        partner = self.env["res.partner"].create({"name": "Silent"})
        partner.write({"comment": "not audited"})
        self.assertFalse(self.events(res_id=partner.id, event_type="record_changed"))
        self.rule.log_write = False
        partner.write({"ref": "X"})
        self.assertFalse(self.events(res_id=partner.id, event_type="record_changed"))

    def test_domain_limits_audited_records(self):
        self.rule.domain = "[('is_company', '=', True)]"
        person = self.env["res.partner"].create({"name": "Person", "is_company": False})
        company = self.env["res.partner"].create({"name": "Supplier Co", "is_company": True})
        self.assertFalse(self.events(res_model="res.partner", res_id=person.id))
        self.assertTrue(self.events(res_model="res.partner", res_id=company.id))

    def test_one_insert_per_orm_call(self):
        partners = self.env["res.partner"].create([{"name": f"P{i}"} for i in range(20)])
        self.env.flush_all()
        with _CountInserts(self.env.cr) as counter:
            partners.write({"ref": "batch"})
        self.assertEqual(counter.inserts, 1)
        self.assertEqual(
            len(
                self.events(event_type="record_changed").filtered(
                    lambda e: e.res_id in partners.ids
                )
            ),
            20,
        )

    def test_rule_adds_trace_action_to_the_model(self):
        action = self.rule.action_id
        self.assertEqual(action.binding_model_id.model, "res.partner")
        partner = self.env["res.partner"].create({"name": "Traced"})
        result = action.with_context(
            active_model="res.partner", active_ids=partner.ids, active_id=partner.id
        ).run()
        events = self.Event.search(result["domain"])
        self.assertIn(partner.id, events.mapped("res_id"))

    def test_rule_changes_are_configuration_events(self):
        self.rule.write({"log_unlink": False})
        event = self.events(
            res_model="integration.audit.rule", res_id=self.rule.id, event_type="config_change"
        )
        self.assertTrue(event)
        self.assertIn("log_unlink", self.changes(event[-1]))


class _CountInserts:
    """Count INSERTs into the audit table while the block runs."""

    def __init__(self, cr):
        self.cr = cr
        self.inserts = 0

    def __enter__(self):
        original = self.cr.execute

        def execute(query, params=None, log_exceptions=True):
            if "INSERT INTO integration_audit_event" in str(query):
                self.inserts += 1
            return original(query, params, log_exceptions)

        self._original = original
        self.cr.execute = execute
        return self

    def __exit__(self, *exc):
        self.cr.execute = self._original
