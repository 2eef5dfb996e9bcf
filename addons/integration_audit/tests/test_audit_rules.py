import base64
import json

from odoo.tests import tagged

from .common import AuditCase, FakeModelsMixin

RECORD = "integration.audit.test.record"


@tagged("post_install", "-at_install")
class TestAuditRules(FakeModelsMixin, AuditCase):
    """The ORM hooks against a model of the tests' own (tests/models.py)."""

    @classmethod
    def _setup_records(cls):
        cls._load_fake_models()
        cls.rule = cls._create_audit_rule(
            RECORD, ("name", "ref", "parent_id", "child_ids", "tag_ids"), name="Test records"
        )
        cls.tag = cls.Tag.create({"name": "Cold chain"})

    def changes(self, event):
        return {change["field"]: change for change in json.loads(event.details)["changes"]}

    def test_create_logs_values_and_one2many_lines(self):
        record = self.Record.create(
            {
                "name": "Central Store",
                "ref": "CS-01",
                "tag_ids": [(6, 0, self.tag.ids)],
                "child_ids": [(0, 0, {"name": "Dock A"}), (0, 0, {"name": "Dock B"})],
            }
        )
        event = self.events(res_model=RECORD, res_id=record.id)
        self.assertEqual(event.event_type, "record_created")
        self.assertEqual(event.res_name, "Central Store")
        changes = self.changes(event)
        self.assertEqual(changes["ref"]["new"], "CS-01")
        self.assertEqual(changes["tag_ids"]["new"], self.tag.ids)
        self.assertEqual(changes["child_ids"]["new"], sorted(record.child_ids.ids))
        self.assertEqual(
            [line["values"]["name"] for line in changes["child_ids"]["lines"]], ["Dock A", "Dock B"]
        )
        # children were created through the audited model too: each has its own event
        for child in record.child_ids:
            self.assertEqual(
                self.events(res_model=RECORD, res_id=child.id).event_type, "record_created"
            )

    def test_write_logs_old_and_new_values_only_for_changed_fields(self):
        record = self.Record.create({"name": "Clinic North", "ref": "CN"})
        record.write({"ref": "CN-2", "name": "Clinic North"})
        event = self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        self.assertEqual(len(event), 1)
        changes = self.changes(event)
        self.assertEqual(set(changes), {"ref"})
        self.assertEqual((changes["ref"]["old"], changes["ref"]["new"]), ("CN", "CN-2"))

    def test_write_logs_one2many_line_changes_added_and_removed(self):
        record = self.Record.create(
            {
                "name": "Hospital East",
                "child_ids": [(0, 0, {"name": "Ward 1"}), (0, 0, {"name": "Ward 2"})],
            }
        )
        ward1, ward2 = record.child_ids.sorted("id")
        record.write(
            {
                "child_ids": [
                    (1, ward1.id, {"name": "Ward 1 (ICU)"}),
                    (2, ward2.id),
                    (0, 0, {"name": "Ward 3"}),
                ]
            }
        )
        event = self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        change = self.changes(event)["child_ids"]
        ward3 = record.child_ids - ward1
        self.assertEqual(change["added"], ward3.ids)
        self.assertEqual(change["removed"], ward2.ids)
        self.assertEqual(
            change["lines"],
            [{"id": ward1.id, "field": "name", "old": "Ward 1", "new": "Ward 1 (ICU)"}],
        )

    def test_many2many_and_many2one_changes(self):
        parent = self.Record.create({"name": "Group HQ"})
        record = self.Record.create({"name": "Pharmacy"})
        record.write({"parent_id": parent.id, "tag_ids": [(4, self.tag.id)]})
        changes = self.changes(
            self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        )
        self.assertEqual(changes["parent_id"]["new"], [parent.id, "Group HQ"])
        self.assertEqual(changes["tag_ids"]["added"], self.tag.ids)

    def test_many2one_change_from_one_record_to_another(self):
        first = self.Record.create({"name": "Group HQ"})
        second = self.Record.create({"name": "Regional HQ"})
        record = self.Record.create({"name": "Pharmacy", "parent_id": first.id})
        record.write({"parent_id": second.id})
        changes = self.changes(
            self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        )
        self.assertEqual(changes["parent_id"]["old"], [first.id, "Group HQ"])
        self.assertEqual(changes["parent_id"]["new"], [second.id, "Regional HQ"])
        self.assertNotIn("added", changes["parent_id"])

    def test_unlink_keeps_the_log(self):
        record = self.Record.create({"name": "Temporary lab", "ref": "TL"})
        record_id = record.id
        record.unlink()
        events = self.events(res_model=RECORD, res_id=record_id)
        self.assertEqual(events.mapped("event_type"), ["record_created", "record_deleted"])
        deleted = events[-1]
        self.assertEqual(deleted.res_name, "Temporary lab")
        self.assertEqual(self.changes(deleted)["ref"]["old"], "TL")

    def test_unaudited_fields_and_disabled_operations_are_silent(self):
        record = self.Record.create({"name": "Silent"})
        record.write({"note": "not audited"})
        self.assertFalse(
            self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        )
        self.rule.log_write = False
        record.write({"ref": "X"})
        self.assertFalse(
            self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        )

    def test_domain_limits_audited_records(self):
        self.rule.domain = "[('critical', '=', True)]"
        routine = self.Record.create({"name": "Routine", "critical": False})
        critical = self.Record.create({"name": "Critical", "critical": True})
        self.assertFalse(self.events(res_model=RECORD, res_id=routine.id))
        self.assertTrue(self.events(res_model=RECORD, res_id=critical.id))

    def test_one_insert_per_orm_call(self):
        records = self.Record.create([{"name": f"P{i}"} for i in range(20)])
        self.env.flush_all()
        with _CountInserts(self.env.cr) as counter:
            records.write({"ref": "batch"})
        self.assertEqual(counter.inserts, 1)
        self.assertEqual(
            self.events(res_model=RECORD, event_type="record_changed").mapped("res_id"),
            records.ids,
        )

    def test_rule_without_fields_audits_stored_fields_but_binaries_and_restricted(self):
        self.rule.field_ids = [(5, 0, 0)]
        record = self.Record.create({"name": "Pump 12", "note": "calibrated"})
        record.write(
            {
                "ref": "P12",
                "critical": True,
                "document": base64.b64encode(b"%PDF-1.7"),
                "token": "s3cret",
            }
        )
        changes = self.changes(
            self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        )
        self.assertEqual(set(changes), {"ref", "critical"})
        events = self.events(res_model=RECORD, res_id=record.id)
        self.assertEqual(set(self.changes(events[0])), {"name", "note"})
        self.assertNotIn("s3cret", "".join(events.mapped("details")))

    def test_rule_adds_trace_action_to_the_model(self):
        action = self.rule.action_id
        self.assertEqual(action.binding_model_id.model, RECORD)
        record = self.Record.create({"name": "Traced"})
        result = action.with_context(
            active_model=RECORD, active_ids=record.ids, active_id=record.id
        ).run()
        events = self.Event.search(result["domain"])
        self.assertIn(record.id, events.mapped("res_id"))

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
