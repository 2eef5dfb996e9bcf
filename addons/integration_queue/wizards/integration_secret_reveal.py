from odoo import fields, models


class IntegrationSecretReveal(models.TransientModel):
    """Shows a new signing secret once. The form is never saved: the secret
    exists in the browser for as long as the dialog is open."""

    _name = "integration.secret.reveal"
    _description = "New Signing Secret"

    partner_id = fields.Many2one("integration.partner", readonly=True)
    secret = fields.Char(readonly=True)
