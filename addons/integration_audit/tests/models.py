"""Models of the tests' own, loaded with odoo-test-helper's FakeModelLoader.

Audit rules in the tests point at these instead of business models, so that what
a test sees is what the audit hooks did, not what res.partner's onchanges,
commercial-field sync or another addon's rule on it did. Import this module only
inside ``setUpClass`` (after ``backup_registry``), never at a test module's top:
an import registers the classes with the addon and a later registry load would
keep them.
"""

from odoo import fields, models


class IntegrationAuditTestTag(models.Model):
    _name = "integration.audit.test.tag"
    _description = "Audit Test Tag"
    _order = "id"

    name = fields.Char(required=True)


class IntegrationAuditTestRecord(models.Model):
    """An audited record with every kind of field an audit rule handles.

    It is a mail.thread, as most audited business models are, so that the
    context keys which silence mail tracking are worth trying against the audit.
    """

    _name = "integration.audit.test.record"
    _description = "Audit Test Record"
    _inherit = ["mail.thread"]
    _order = "id"

    name = fields.Char(required=True)
    ref = fields.Char()
    parent_id = fields.Many2one("integration.audit.test.record", ondelete="cascade")
    child_ids = fields.One2many("integration.audit.test.record", "parent_id")
    tag_ids = fields.Many2many(
        "integration.audit.test.tag",
        relation="integration_audit_test_record_tag_rel",
        column1="record_id",
        column2="tag_id",
    )
    note = fields.Text()
    critical = fields.Boolean()
    document = fields.Binary(attachment=False)
    token = fields.Char(groups="base.group_system")

    def _audit_related_records(self):
        # a test record's story goes on to its children, as an order's to its receipts
        return [*super()._audit_related_records(), self.child_ids]
