from odoo import fields, models


class IntegrationGatewayRejection(models.Model):
    """Gateway rejections counted per minute: an unauthenticated caller's per source
    address (IPv6 per /64), an authenticated partner's per rejection code.

    The first rejection of a source (and code) in a minute leaves an audit event;
    the following ones only add to this count, so a flood of bad requests cannot
    grow the audit trail without bound. A partner's count also weighs on its rate
    limit. Readable by Settings / Administration only: the rows name callers'
    addresses of every company.
    """

    _name = "integration.gateway.rejection"
    _description = "Integration Gateway Rejections"
    _order = "minute desc, id desc"
    _log_access = False

    source = fields.Char(
        required=True, readonly=True, help="Caller address (IPv6: its /64) or partner code."
    )
    code = fields.Char(
        required=True, readonly=True, default="anonymous", help="Rejection code of a partner."
    )
    partner_id = fields.Many2one(
        "integration.partner", readonly=True, index=True, ondelete="cascade"
    )
    minute = fields.Datetime(required=True, readonly=True, index=True)
    count = fields.Integer(readonly=True)

    _sql_constraints = [
        (
            "source_minute_unique",
            "UNIQUE(source, code, minute)",
            "One count per source, code and minute.",
        )
    ]
