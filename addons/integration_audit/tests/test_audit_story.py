from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..correlation import CONTEXT_KEY
from .common import AuditCase, FakeModelsMixin

RECORD = "integration.audit.test.record"


@tagged("post_install", "-at_install")
class TestAuditStory(FakeModelsMixin, AuditCase):
    """ "Audit Trail" on a document: its whole story, in causal order, in words."""

    @classmethod
    def _setup_records(cls):
        cls._load_fake_models()
        cls.rule = cls._create_audit_rule(
            RECORD, ("name", "ref", "parent_id", "tag_ids"), name="Story records"
        )
        cls.trace_view = cls.env.ref("integration_audit.integration_audit_event_view_list_trace")

    def in_unit(self, cid):
        """The env of one unit of work (one correlation ID)."""
        return self.env(context=dict(self.env.context, **{CONTEXT_KEY: cid}))

    def trail(self, records, user=None):
        """The events "Audit Trail" shows for ``records``, in the trace view's order."""
        Event = self.env["integration.audit.event"].with_user(user or self.env.user)
        action = Event.action_trace_records(records.with_user(user or self.env.user))
        order = etree.fromstring(self.trace_view.arch).get("default_order")
        return Event.search(action["domain"], order=order), action

    def test_story_follows_related_records_across_correlation_ids(self):
        order = self.in_unit("unit-order")[RECORD].create({"name": "PO 42"})
        receipt = self.in_unit("unit-receipt")[RECORD].create(
            {"name": "Receipt of PO 42", "parent_id": order.id}
        )
        receipt.with_env(self.in_unit("unit-receipt-done")).write({"ref": "WH/IN/7"})
        unrelated = self.in_unit("unit-other")[RECORD].create({"name": "Other order"})
        events, action = self.trail(order)
        self.assertEqual(
            {(e.res_id, e.correlation_id) for e in events},
            {
                (order.id, "unit-order"),
                (receipt.id, "unit-receipt"),
                (receipt.id, "unit-receipt-done"),
            },
        )
        self.assertNotIn(unrelated.id, events.mapped("res_id"))
        self.assertIn("PO 42", action["name"])
        # one timeline, not one group per unit of work
        self.assertFalse(action["context"]["search_default_group_by_correlation"])

    def test_story_is_in_causal_order_within_a_transaction(self):
        """Every event of this test shares the transaction's timestamp, as a job's do."""
        env = self.in_unit("unit-job")
        Event = env["integration.audit.event"]
        record = env[RECORD].create({"name": "Made by a job"})
        record.write({"ref": "JOB-1"})
        # the runner logs a job's start and end once the job has run (integration_queue)
        Event._log("job_started", "Job started", records=record)
        Event._log("job_done", "Job done", records=record)
        events, _action = self.trail(record)
        self.assertEqual(len(set(events.mapped("timestamp"))), 1)
        self.assertEqual(
            events.mapped("event_type"),
            ["job_started", "record_created", "record_changed", "job_done"],
        )
        self.assertEqual(events.mapped("causal_rank"), sorted(events.mapped("causal_rank")))

    def test_changes_read_in_field_labels(self):
        parent = self.Record.create({"name": "Ward 3"})
        record = self.Record.create({"name": "Bed 12"})
        record.write({"parent_id": parent.id, "ref": "B12"})
        changed = self.events(res_model=RECORD, res_id=record.id, event_type="record_changed")
        self.assertIn("parent_id", changed.summary)  # the sealed summary stays as logged
        labels = {
            name: self.Record._fields[name]._description_string(self.env)
            for name in ("parent_id", "ref")
        }
        self.assertNotEqual(labels["parent_id"], "parent_id")
        # in the order the write named them
        self.assertEqual(changed.description, f"Changed {labels['parent_id']}, {labels['ref']}")
        self.assertIn(f"<td>{labels['parent_id']}</td>", changed.details_html)
        self.assertNotIn("<td>parent_id</td>", changed.details_html)
        self.assertEqual(changed.res_model_label, self.Record._description)

    def test_audit_viewer_needs_to_read_the_starting_document(self):
        record = self.in_unit("unit-restricted")[RECORD].create({"name": "Restricted"})
        outsider = new_test_user(
            self.env,
            login="story_outsider",
            groups="base.group_portal,integration_audit.group_audit_viewer",
        )
        with self.assertRaises(AccessError):
            self.env["integration.audit.event"].with_user(outsider).action_trace_records(
                record.with_user(outsider)
            )
        viewer = new_test_user(
            self.env,
            login="story_viewer",
            groups="base.group_user,integration_audit.group_audit_viewer",
        )
        events, _action = self.trail(record, user=viewer)
        self.assertEqual(set(events.mapped("correlation_id")), {"unit-restricted"})
        self.assertEqual(events.mapped("res_id"), [record.id])

    def test_read_only_auditor_opens_the_trace_from_the_action_menu(self):
        """Odoo runs a server action on its model's records only for users who may write
        them: the trace action belongs to the audit events, bound to the audited model."""
        record = self.in_unit("unit-read-only")[RECORD].create({"name": "Read only"})
        self.env["ir.rule"].create(
            {
                "name": "test: story records are read-only",
                "model_id": self.env["ir.model"]._get_id(RECORD),
                "domain_force": "[(0, '=', 1)]",
                "perm_read": False,
                "perm_write": True,
                "perm_create": False,
                "perm_unlink": False,
            }
        )
        auditor = new_test_user(
            self.env,
            login="story_read_only",
            groups="base.group_user,integration_audit.group_audit_viewer",
        )
        with self.assertRaises(AccessError):
            record.with_user(auditor).write({"name": "changed"})
        action = (
            self.rule.action_id.with_user(auditor)
            .with_context(active_model=RECORD, active_id=record.id, active_ids=[record.id])
            .run()
        )
        events = self.env["integration.audit.event"].with_user(auditor).search(action["domain"])
        self.assertEqual(events.mapped("res_id"), [record.id])
        self.assertEqual(self.rule.action_id.binding_model_id.model, RECORD)
