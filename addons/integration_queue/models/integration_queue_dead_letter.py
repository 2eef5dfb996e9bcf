from odoo import _, fields, models, tools
from odoo.exceptions import AccessError

from .integration_message_type import LANES


class IntegrationQueueDeadLetter(models.Model):
    """Dead letters and business exceptions per message type and company.

    A view over the messages that wait for someone (dead or exception): a
    small, indexed subset of the messages, grouped when read.
    """

    _name = "integration.queue.dead.letter"
    _description = "Dead Letters per Message Type"
    _auto = False
    _order = "dead_count desc, exception_count desc, message_type_id"
    _rec_name = "message_type_id"

    message_type_id = fields.Many2one("integration.message.type", "Type", readonly=True)
    lane = fields.Selection(LANES, readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    dead_count = fields.Integer("Dead Letters", readonly=True)
    exception_count = fields.Integer("Exceptions", readonly=True)
    oldest_date = fields.Datetime("Oldest Received", readonly=True)
    latest_date = fields.Datetime("Latest Received", readonly=True)

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the queue dashboard."))
        tools.drop_view_if_exists(self.env.cr, self._table)
        # min(m.id) as id: each message is in one group, so ids stay stable while it waits
        self.env.cr.execute(
            """
            CREATE VIEW integration_queue_dead_letter AS
            SELECT min(m.id) AS id, m.message_type_id, t.lane, m.company_id,
                   count(*) FILTER (WHERE m.state = 'dead') AS dead_count,
                   count(*) FILTER (WHERE m.state = 'exception') AS exception_count,
                   min(m.received_at) AS oldest_date,
                   max(m.received_at) AS latest_date
              FROM integration_message m
              LEFT JOIN integration_message_type t ON t.id = m.message_type_id
             WHERE m.state IN ('dead', 'exception')
             GROUP BY m.message_type_id, t.lane, m.company_id
            """
        )

    def action_open_messages(self):
        """The dead letters and exceptions of this type and company."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "integration_queue.integration_message_action_attention"
        )
        action["domain"] = [
            ("message_type_id", "=", self.message_type_id.id),
            ("company_id", "=", self.company_id.id),
            ("state", "in", ("dead", "exception")),
        ]
        action["display_name"] = _(
            "Dead Letters: %(type)s", type=self.message_type_id.display_name or _("no type")
        )
        return action
