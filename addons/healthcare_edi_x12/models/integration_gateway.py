from odoo import models

from ..x12.envelope import interchange_key


class IntegrationGateway(models.AbstractModel):
    _inherit = "integration.gateway"

    def _store(self, partner, message_type, type_info, headers, body, data):
        """An interchange the partner already sent (same sender and ISA13) is a duplicate
        of the stored one, whatever its webhook-id: the gateway answers it as such."""
        key = interchange_key(data) if type_info.payload_format == "x12" else None
        if key:
            existing = self._find_x12_interchange(partner, key)
            if existing:
                return existing, False
        message, created = super()._store(partner, message_type, type_info, headers, body, data)
        if created and key:
            self.env.cr.execute(
                "UPDATE integration_message SET x12_interchange_key = %s WHERE id = %s",
                [key, message.id],
            )
            message.invalidate_recordset(["x12_interchange_key"])
        return message, created

    def _find_x12_interchange(self, partner, key):
        self.env.cr.execute(
            "SELECT id FROM integration_message WHERE partner_id = %s"
            " AND x12_interchange_key = %s AND direction = 'inbound' ORDER BY id LIMIT 1",
            [partner["id"], key],
        )
        row = self.env.cr.fetchone()
        return self.env["integration.message"].sudo().browse(row[0]) if row else None
