import base64
import json

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError

from .. import chain, export_signing

SIGNING_KEY_PARAM = "integration_audit.export_signing_key"
SIGNING_KEY_FILE_OPTION = "audit_export_signing_key_file"


class IntegrationAuditExport(models.TransientModel):
    """Export events as signed JSON lines for auditors."""

    _name = "integration.audit.export"
    _description = "Export Audit Events"

    date_from = fields.Datetime()
    date_to = fields.Datetime()
    correlation_id = fields.Char("Correlation ID")
    export_file = fields.Binary(readonly=True, attachment=False)
    export_filename = fields.Char(readonly=True)
    signature_file = fields.Binary(readonly=True, attachment=False)
    signature_filename = fields.Char(readonly=True)
    public_key = fields.Char(readonly=True, help="Publish this key to auditors; they pin it.")
    event_count = fields.Integer(readonly=True)

    def action_export(self):
        """Export the caller's visible events of the chosen range, signed."""
        self.ensure_one()
        self.env["integration.audit.event"]._check_audit_group(
            "integration_audit.group_audit_manager", _("export the audit trail")
        )
        if not (self.date_from or self.date_to or self.correlation_id):
            raise UserError(_("Choose a date range or a correlation ID to export."))
        events = self.env["integration.audit.event"]
        domain = []
        if self.date_from:
            domain.append(("timestamp", ">=", self.date_from))
        if self.date_to:
            domain.append(("timestamp", "<=", self.date_to))
        if self.correlation_id:
            domain.append(("correlation_id", "=", self.correlation_id.strip()))
        # read access is checked on the user; the export itself reads raw rows
        allowed = events.search(domain, order="id")
        data = self._export_lines(allowed.ids)
        signature = export_signing.sign_export(data, self._signing_key())
        stamp = fields.Datetime.now().strftime("%Y%m%d-%H%M%S")
        self.write(
            {
                "export_file": base64.b64encode(data),
                "export_filename": f"audit-{stamp}.jsonl",
                "signature_file": base64.b64encode(chain.canonical_json(signature).encode()),
                "signature_filename": f"audit-{stamp}.jsonl.sig",
                "public_key": signature["public_key"],
                "event_count": len(allowed),
            }
        )
        events.sudo()._log(
            "manual_action",
            _("Audit export of %(count)s events", count=len(allowed)),
            details={"domain": str(domain), "count": len(allowed), "sha256": signature["sha256"]},
            payload=data,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def _export_lines(self, event_ids):
        """JSON lines: each event's hashed content plus its seal."""
        events = self.env["integration.audit.event"].sudo()
        events._seal_pending()
        cr = self.env.cr
        out = []
        for batch in tools.split_every(5000, event_ids):
            cr.execute(
                """
                SELECT e.*, s.sequence AS seal_sequence, s.event_hash AS seal_event_hash,
                       s.chain_hash AS seal_chain_hash, p.chain_hash AS seal_prev_chain_hash,
                       s.event_timestamp AS seal_event_timestamp
                  FROM integration_audit_event e
                  LEFT JOIN integration_audit_seal s ON s.event_id = e.id
                  LEFT JOIN integration_audit_seal p ON p.sequence = s.sequence - 1
                 WHERE e.id = ANY(%s)
                 ORDER BY s.sequence NULLS LAST, e.id
                """,
                [list(batch)],
            )
            for row in cr.dictfetchall():
                record = {name: row[name] for name in chain.HASHED_FIELDS}
                record["timestamp"] = chain.normalise_timestamp(row["timestamp"])
                if row["seal_sequence"]:
                    record["seal"] = {
                        "sequence": row["seal_sequence"],
                        "event_hash": row["seal_event_hash"],
                        "chain_hash": row["seal_chain_hash"],
                        "prev_chain_hash": row["seal_prev_chain_hash"] or chain.GENESIS,
                    }
                    if row["seal_event_timestamp"] is not None:
                        record["seal"]["event_timestamp"] = chain.normalise_timestamp(
                            row["seal_event_timestamp"]
                        )
                out.append(chain.canonical_json(record))
        return ("\n".join(out) + "\n").encode("utf-8") if out else b""

    @api.model
    def _signing_key(self):
        """The Ed25519 key: from the file named in odoo.conf, else one kept in the database."""
        path = tools.config.get(SIGNING_KEY_FILE_OPTION)
        if path:
            with open(path, encoding="ascii") as key_file:
                return export_signing.load_private_key(key_file.read())
        params = self.env["ir.config_parameter"].sudo()
        pem = params.get_param(SIGNING_KEY_PARAM)
        if not pem:
            pem = export_signing.generate_private_key_pem()
            params.set_param(SIGNING_KEY_PARAM, pem)
        return export_signing.load_private_key(pem)

    @api.model
    def _verify_file(self, data, signature_bytes, public_key=None):
        """Problems found in an export and its signature (empty list when sound)."""
        return export_signing.verify_export(data, json.loads(signature_bytes), public_key)
