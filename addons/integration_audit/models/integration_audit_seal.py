from odoo import fields, models


class IntegrationAuditSeal(models.Model):
    """A link of the audit hash chain. Insert-only, like the events it seals.

    Kept apart from the event table so that sealing never updates an event and
    a purged event's link still proves the chain.
    """

    _name = "integration.audit.seal"
    _inherit = ["integration.audit.append.only"]
    _description = "Integration Audit Seal"
    _order = "sequence"
    _rec_name = "sequence"
    _log_access = False

    sequence = fields.Integer(required=True, readonly=True)
    event_id = fields.Integer("Event ID", required=True, readonly=True, index=True)
    event_hash = fields.Char(required=True, readonly=True)
    chain_hash = fields.Char(required=True, readonly=True)
    event_timestamp = fields.Datetime(
        readonly=True, help="The event's time, chained: it outlives a purge of the event."
    )
    company_id = fields.Many2one(
        "res.company",
        readonly=True,
        index=True,
        ondelete="restrict",
        help="The sealed event's company.",
    )
    sealed_at = fields.Datetime(readonly=True)

    _sql_constraints = [
        ("sequence_unique", "UNIQUE(sequence)", "A chain position is sealed once."),
        ("event_unique", "UNIQUE(event_id)", "An event is sealed once."),
    ]


class IntegrationAuditPending(models.Model):
    """Events inserted but not sealed yet: the sealer's work list."""

    _name = "integration.audit.pending"
    _description = "Integration Audit Event Awaiting Seal"
    _log_access = False

    event_id = fields.Integer("Event ID", required=True, readonly=True)

    _sql_constraints = [("event_unique", "UNIQUE(event_id)", "An event is queued once.")]
