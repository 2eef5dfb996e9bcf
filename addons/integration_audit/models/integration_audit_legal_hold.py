from odoo import api, fields, models
from odoo.tools import SQL


class IntegrationAuditLegalHold(models.Model):
    """Keeps matching audit events out of the retention purge while active."""

    _name = "integration.audit.legal.hold"
    _description = "Audit Legal Hold"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"

    name = fields.Char(required=True, tracking=True)
    reason = fields.Text(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, tracking=True
    )
    correlation_id = fields.Char(
        "Correlation ID", tracking=True, help="Hold every event of this unit of work."
    )
    res_model = fields.Char("Model", tracking=True, help="Hold events of records of this model.")
    res_id = fields.Integer(
        "Record ID", tracking=True, help="With a model: hold the events of this one record only."
    )
    date_from = fields.Datetime(tracking=True)
    date_to = fields.Datetime(tracking=True)

    @api.model
    def _held_events_condition(self, alias="e"):
        """SQL condition true for events under an active hold (FALSE when none)."""
        conditions = []
        column = lambda name: SQL.identifier(alias, name)
        # every active hold of every company counts, whatever the caller's context
        for hold in self.sudo().with_context(active_test=True).search([]):
            parts = [SQL("%s = %s", column("company_id"), hold.company_id.id)]
            if hold.correlation_id:
                parts.append(SQL("%s = %s", column("correlation_id"), hold.correlation_id))
            if hold.res_model:
                parts.append(SQL("%s = %s", column("res_model"), hold.res_model))
                if hold.res_id:
                    parts.append(SQL("%s = %s", column("res_id"), hold.res_id))
            if hold.date_from:
                parts.append(SQL("%s >= %s", column("timestamp"), hold.date_from))
            if hold.date_to:
                parts.append(SQL("%s <= %s", column("timestamp"), hold.date_to))
            conditions.append(SQL("(%s)", SQL(" AND ").join(parts)))
        if not conditions:
            return SQL("FALSE")
        return SQL("(%s)", SQL(" OR ").join(conditions))
