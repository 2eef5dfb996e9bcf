from odoo import _, api, fields, models
from odoo.exceptions import AccessError

KINDS = [("isa", "ISA13"), ("gs", "GS06"), ("st", "ST02")]
# ISA13 is 9 digits, ST02 printed on at least 4
MAX_VALUE = 999999999


class X12ControlNumber(models.Model):
    """The last control number used per partner and level: unique and increasing.

    :meth:`_next` takes the next one in one ``UPDATE ... RETURNING``: the row lock
    orders concurrent senders (the loser waits, then fails to serialise and Odoo
    replays its request), so no number is given twice.
    """

    _name = "x12.control.number"
    _description = "X12 Control Number Counter"
    _order = "partner_id, kind"
    _rec_name = "kind"

    partner_id = fields.Many2one("integration.partner", required=True, ondelete="cascade")
    kind = fields.Selection(KINDS, required=True)
    last_value = fields.Integer(readonly=True)

    _sql_constraints = [
        ("partner_kind_unique", "UNIQUE(partner_id, kind)", "One counter per partner and level.")
    ]

    @api.model
    def _next(self, partner, kind):
        """The next control number of ``kind`` for ``partner`` (server code only)."""
        if not self.env.su:
            raise AccessError(_("Control numbers are taken by the X12 sender only."))
        self.env.cr.execute(
            """
            INSERT INTO x12_control_number (partner_id, kind, last_value, create_uid, create_date,
                                            write_uid, write_date)
            VALUES (%(partner)s, %(kind)s, 1, %(uid)s, now() at time zone 'UTC',
                    %(uid)s, now() at time zone 'UTC')
            ON CONFLICT (partner_id, kind) DO UPDATE
               SET last_value = CASE WHEN x12_control_number.last_value >= %(max)s THEN 1
                                     ELSE x12_control_number.last_value + 1 END,
                   write_date = now() at time zone 'UTC'
            RETURNING last_value
            """,
            {"partner": partner.id, "kind": kind, "uid": self.env.uid, "max": MAX_VALUE},
        )
        return self.env.cr.fetchone()[0]
