import hashlib
import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import QueueCase, encryption_key


@tagged("post_install", "-at_install")
class TestSecrets(QueueCase):
    def test_secret_is_encrypted_at_rest(self):
        self.env.cr.execute(
            "SELECT ciphertext FROM integration_partner_secret WHERE partner_id = %s",
            [self.partner.id],
        )
        (ciphertext,) = self.env.cr.fetchone()
        self.assertNotIn(self.secret, ciphertext)
        self.assertNotIn(self.secret.removeprefix("whsec_"), ciphertext)
        self.assertEqual(
            self.env["integration.partner.secret"]._get_plaintexts(self.partner.id), [self.secret]
        )

    def test_secret_is_masked_in_reads_exports_and_audit(self):
        secret = self.partner.secret_ids
        self.assertNotIn("ciphertext", secret._fields)
        values = json.dumps(secret.read(), default=str)
        exported = json.dumps(secret.export_data(["fingerprint", "expires_at"]), default=str)
        self.env.cr.execute("SELECT details FROM integration_audit_event")
        audit = json.dumps(self.env.cr.fetchall())
        for text in (values, exported, audit):
            self.assertNotIn(self.secret, text)
            self.assertNotIn(self.secret.removeprefix("whsec_"), text)

    def test_refuses_to_store_without_key(self):
        with (
            encryption_key(None),
            self.assertRaisesRegex(UserError, "integration_queue_secret_key"),
        ):
            self.env["integration.partner.secret"]._store(self.partner, "whsec_" + "A" * 44)

    def test_rotation_shows_new_secret_once_and_keeps_old_one_valid(self):
        action = self.partner.action_rotate_secret()
        new_secret = action["context"]["default_secret"]
        self.assertTrue(new_secret.startswith("whsec_"))
        self.assertEqual(action["res_model"], "integration.secret.reveal")
        plaintexts = self.env["integration.partner.secret"]._get_plaintexts(self.partner.id)
        self.assertEqual(plaintexts, [new_secret, self.secret])  # both valid: no downtime
        new_fp = hashlib.sha256(new_secret.encode()).hexdigest()[:12]
        old = self.partner.secret_ids.filtered(lambda s: s.fingerprint != new_fp)
        new = self.partner.secret_ids - old
        self.assertTrue(old.expires_at)
        self.assertFalse(new.expires_at)
        # the reveal wizard is not saved anywhere
        self.assertFalse(self.env["integration.secret.reveal"].search([]))
        # both secrets are accepted by the gateway during the overlap
        for secret in (self.secret, new_secret):
            self.assertEqual(self.receive({"note": "x"}, secret=secret).status, 202)
