from odoo import _, api, fields, models
from odoo.exceptions import AccessError
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

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_company_of_caller(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._check_company_of_caller(vals)
        return super().write(vals)

    @api.model
    def _check_company_of_caller(self, vals):
        """Refuse to move a hold into a company the real user does not belong to.

        Record rules check a hold as it was: without this an Audit Manager could
        hand his company's hold to another company, where it no longer holds his
        company's events and he no longer sees it.
        """
        if self.env.su or not vals.get("company_id"):
            return
        if vals["company_id"] not in self.env.user.company_ids.ids:
            raise AccessError(
                _(
                    "company_id: a legal hold can only belong to one of your companies"
                    " (%(companies)s).",
                    companies=", ".join(self.env.user.company_ids.mapped("name")),
                )
            )

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
