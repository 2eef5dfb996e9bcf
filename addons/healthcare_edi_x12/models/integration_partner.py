from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

X12_VERSIONS = [("00401", "004010"), ("00501", "005010")]
# ISA05/ISA07 interchange ID qualifiers (X12 I05) a supplier may use
ISA_QUALIFIERS = [
    ("01", "01 - DUNS"),
    ("08", "08 - UCC EDI Communications ID"),
    ("12", "12 - Phone"),
    ("14", "14 - DUNS+4 / GLN"),
    ("ZZ", "ZZ - Mutually Defined"),
]


class IntegrationPartner(models.Model):
    _inherit = "integration.partner"

    x12_enabled = fields.Boolean(
        "Speaks X12", help="Orders go to this partner as X12 850s; it posts X12 interchanges."
    )
    x12_version = fields.Selection(X12_VERSIONS, "X12 Version", default="00401")
    x12_usage = fields.Selection(
        [("P", "Production"), ("T", "Test")], "X12 Usage", default="P", help="ISA15."
    )
    x12_partner_qualifier = fields.Selection(ISA_QUALIFIERS, "Partner ID Qualifier", default="ZZ")
    x12_partner_id = fields.Char("Partner Interchange ID", help="ISA06 of what it sends.")
    x12_partner_group_id = fields.Char(
        "Partner Application Code", help="GS02 of what it sends, GS03 of what we send."
    )
    x12_our_qualifier = fields.Selection(ISA_QUALIFIERS, "Our ID Qualifier", default="ZZ")
    x12_our_id = fields.Char("Our Interchange ID", help="ISA08 of what it sends to us.")
    x12_our_group_id = fields.Char("Our Application Code", help="GS03 of what it sends.")
    x12_change_mode = fields.Selection(
        [("850", "New 850 (BEG01 = 05, revision in REF*PP)")],
        "Order Changes",
        default="850",
        help="How a changed order is sent again.",
    )

    @api.constrains("x12_enabled", "x12_partner_id", "x12_our_id", "x12_partner_group_id")
    def _check_x12_identity(self):
        for partner in self.filtered("x12_enabled"):
            for name in ("x12_partner_id", "x12_our_id"):
                value = partner[name] or ""
                if not value or len(value) > 15 or not value.isprintable():
                    raise ValidationError(
                        _(
                            "%(partner)s: %(field)s is required for X12, at most 15"
                            " printable characters",
                            partner=partner.code,
                            field=partner._fields[name].string,
                        )
                    )

    def _x12_envelope(self, control):
        """The ISA fields of an interchange we send to this partner."""
        self.ensure_one()
        return {
            "sender_qualifier": self.x12_our_qualifier or "ZZ",
            "sender_id": self.x12_our_id,
            "receiver_qualifier": self.x12_partner_qualifier or "ZZ",
            "receiver_id": self.x12_partner_id,
            "control": control,
            "version": self.x12_version or "00401",
            "usage": self.x12_usage or "P",
        }
