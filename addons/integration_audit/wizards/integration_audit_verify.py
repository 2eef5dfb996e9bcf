from odoo import _, fields, models


class IntegrationAuditVerify(models.TransientModel):
    """Seal what is pending, then check the whole hash chain."""

    _name = "integration.audit.verify"
    _description = "Verify Audit Chain"

    state = fields.Selection(
        [("draft", "Ready"), ("ok", "Intact"), ("broken", "Broken")], default="draft", readonly=True
    )
    checked = fields.Integer("Links Checked", readonly=True)
    pending = fields.Integer("Awaiting Seal", readonly=True)
    broken_sequence = fields.Integer("Broken at Position", readonly=True)
    broken_event_id = fields.Integer("Broken Event ID", readonly=True)
    reason = fields.Char(readonly=True)

    def action_verify(self):
        """Seal pending events, verify the chain and log the verification."""
        self.ensure_one()
        self.env["integration.audit.event"]._check_audit_group(
            "integration_audit.group_audit_manager", _("verify the audit chain")
        )
        # the caller is an Audit Manager: the chain is read whole, across companies
        events = self.env["integration.audit.event"].sudo()
        events._seal_pending()
        report = events._verify_chain()
        error = report["error"] or {}
        self.write(
            {
                "state": "ok" if report["ok"] else "broken",
                "checked": report["checked"],
                "pending": report["pending"],
                "broken_sequence": error.get("sequence") or 0,
                "broken_event_id": error.get("event_id") or 0,
                "reason": error.get("reason") or False,
            }
        )
        events._log(
            "manual_action",
            _("Audit chain verified: %(result)s", result="intact" if report["ok"] else "BROKEN"),
            details=report,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
