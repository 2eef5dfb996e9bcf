import hashlib

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import config

from .. import registry, secret_box


class IntegrationPartnerSecret(models.Model):
    """A signing secret of a partner, encrypted at rest and never shown again.

    The ciphertext lives in a column the ORM does not know, so no read, export
    or RPC call can return it; only :meth:`_get_plaintexts` decrypts, in code.
    """

    _name = "integration.partner.secret"
    _inherit = ["integration.cached.config"]
    _description = "Integration Partner Signing Secret"
    _order = "create_date desc, id desc"

    partner_id = fields.Many2one(
        "integration.partner", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="partner_id.company_id", store=True, index=True)
    fingerprint = fields.Char(
        readonly=True, help="First 12 hex digits of the secret's SHA-256: tells secrets apart."
    )
    expires_at = fields.Datetime("Expires", help="Empty: valid until rotated out.")
    is_valid = fields.Boolean(compute="_compute_is_valid")

    def init(self):
        if not self.env.su:
            raise AccessError(_("Only the server sets up the secret table."))
        self.env.cr.execute(
            "ALTER TABLE integration_partner_secret ADD COLUMN IF NOT EXISTS ciphertext text"
        )

    @api.model_create_multi
    def create(self, vals_list):
        if not registry.guarded():
            raise AccessError(_("Signing secrets are made by Rotate Secret only."))
        return super().create(vals_list)

    def write(self, vals):
        # a fingerprint names the secret it was computed from: it never changes
        if {"partner_id", "fingerprint"}.intersection(vals) and not registry.guarded():
            raise AccessError(_("A secret's partner and fingerprint cannot change."))
        return super().write(vals)

    @api.depends("expires_at")
    def _compute_is_valid(self):
        now = fields.Datetime.now()
        for secret in self:
            secret.is_valid = not secret.expires_at or secret.expires_at > now

    @api.model
    def _encryption_key(self):
        return config.get(secret_box.CONFIG_OPTION)

    @api.model
    def _store(self, partner, plaintext, expires_at=None):
        """Encrypt and store ``plaintext`` for ``partner``; return the new record."""
        try:
            ciphertext = secret_box.encrypt(self._encryption_key(), plaintext)
        except secret_box.MissingKeyError as error:
            raise UserError(_("The secret was not stored: %(reason)s", reason=str(error))) from None
        with registry.write_guard():
            secret = self.sudo().create(
                {
                    "partner_id": partner.id,
                    "fingerprint": hashlib.sha256(plaintext.encode()).hexdigest()[:12],
                    "expires_at": expires_at,
                }
            )
        self.env.cr.execute(
            "UPDATE integration_partner_secret SET ciphertext = %s WHERE id = %s",
            [ciphertext, secret.id],
        )
        self.env.registry.clear_cache()
        return secret

    @api.model
    def _get_plaintexts(self, partner_id):
        """Valid secrets of a partner, newest first, decrypted."""
        self.env.cr.execute(
            """
            SELECT ciphertext FROM integration_partner_secret
             WHERE partner_id = %s AND ciphertext IS NOT NULL
               AND (expires_at IS NULL OR expires_at > (now() at time zone 'UTC'))
             ORDER BY create_date DESC, id DESC
            """,
            [partner_id],
        )
        key = self._encryption_key()
        return [secret_box.decrypt(key, row[0]) for row in self.env.cr.fetchall()]

    @api.model
    def _get_all_with_expiry(self, partner_id):
        """((plaintext, expires_at), ...) of every stored secret, for the gateway cache."""
        self.env.cr.execute(
            """
            SELECT ciphertext, expires_at FROM integration_partner_secret
             WHERE partner_id = %s AND ciphertext IS NOT NULL
             ORDER BY id DESC
            """,
            [partner_id],
        )
        key = self._encryption_key()
        return tuple(
            (secret_box.decrypt(key, ciphertext), expires_at)
            for ciphertext, expires_at in self.env.cr.fetchall()
        )
