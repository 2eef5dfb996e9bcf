from odoo import fields, models


class IntegrationGatewayRejection(models.Model):
    """Unauthenticated gateway rejections counted per source address and minute.

    The first rejection of a source in a minute leaves an audit event; the
    following ones only add to this count, so a flood of bad signatures cannot
    grow the audit trail without bound.
    """

    _name = "integration.gateway.rejection"
    _description = "Integration Gateway Unauthenticated Rejections"
    _order = "minute desc, id desc"
    _log_access = False

    source = fields.Char(required=True, readonly=True)
    minute = fields.Datetime(required=True, readonly=True)
    count = fields.Integer(readonly=True)

    _sql_constraints = [
        ("source_minute_unique", "UNIQUE(source, minute)", "One count per source and minute.")
    ]
