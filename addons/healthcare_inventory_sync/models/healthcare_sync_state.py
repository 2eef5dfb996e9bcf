from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class HealthcareFacilitySyncState(models.Model):
    """Per facility and partner: the last message, and the last snapshot applied."""

    _name = "healthcare.facility.sync.state"
    _description = "Facility Sync State"
    _order = "warehouse_id, partner_id"

    warehouse_id = fields.Many2one(
        "stock.warehouse", "Facility", required=True, ondelete="cascade", index=True
    )
    partner_id = fields.Many2one(
        "integration.partner", required=True, ondelete="cascade", index=True
    )
    last_message_at = fields.Datetime(readonly=True)
    last_snapshot_as_of = fields.Datetime(readonly=True)
    last_snapshot_sequence = fields.Integer(readonly=True)
    silent = fields.Boolean(readonly=True)
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True)

    _sql_constraints = [
        (
            "facility_partner_unique",
            "UNIQUE(warehouse_id, partner_id)",
            "One sync state per facility and partner.",
        ),
    ]

    @api.model
    def _get(self, warehouse, partner):
        state = self.sudo().search(
            [("warehouse_id", "=", warehouse.id), ("partner_id", "=", partner.id)], limit=1
        )
        return state or self.sudo().create({"warehouse_id": warehouse.id, "partner_id": partner.id})

    @api.model
    def _cron_check_silence(self):
        """Alert on facilities silent for longer than their expected interval."""
        now = fields.Datetime.now()
        Alert = self.env["healthcare.stock.alert"].sudo()
        for warehouse in (
            self.env["stock.warehouse"].sudo().search([("sync_interval_minutes", ">", 0)])
        ):
            states = self.sudo().search([("warehouse_id", "=", warehouse.id)])
            last = max(states.mapped("last_message_at") or [False]) if states else False
            limit = warehouse.sync_interval_minutes * 60
            is_silent = not last or (now - last).total_seconds() > limit
            states.write({"silent": is_silent})
            if is_silent:
                Alert._raise("silent_facility", warehouse, self._silence_text(warehouse, last))
            else:
                Alert._resolve("silent_facility", warehouse)

    @api.model
    def _silence_text(self, warehouse, last):
        """The silent-facility alert's text; a facility that never reported says so."""
        if not last:
            return _(
                "%(facility)s has never sent a message (expected every %(n)s min)",
                facility=warehouse.name,
                n=warehouse.sync_interval_minutes,
            )
        return _(
            "No message from %(facility)s since %(last)s (expected every %(n)s min)",
            facility=warehouse.name,
            last=fields.Datetime.to_string(last),
            n=warehouse.sync_interval_minutes,
        )


class HealthcareStockAlert(models.Model):
    """Shortages, expiries, consumption shortfalls and silent facilities."""

    _name = "healthcare.stock.alert"
    _description = "Healthcare Stock Alert"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "state, create_date desc, id desc"

    alert_type = fields.Selection(
        [
            ("shortage", "Shortage"),
            ("expiry", "Expiry"),
            ("consumption_shortfall", "Consumption Shortfall"),
            ("silent_facility", "Silent Facility"),
            ("lot_assumed", "Lot Assumed"),
            ("rejected_lines", "Rejected Snapshot Lines"),
        ],
        required=True,
        index=True,
    )
    warehouse_id = fields.Many2one("stock.warehouse", "Facility", required=True, index=True)
    product_id = fields.Many2one("product.product", index=True)
    lot_id = fields.Many2one("stock.lot")
    quantity = fields.Float(digits="Product Unit of Measure")
    name = fields.Char("Description", required=True)
    state = fields.Selection(
        [("open", "Open"), ("resolved", "Resolved")],
        default="open",
        required=True,
        index=True,
        tracking=True,
    )
    message_ref_id = fields.Many2one("integration.message", "Integration Message")
    company_id = fields.Many2one(related="warehouse_id.company_id", store=True)

    @api.model
    def _raise(
        self, alert_type, warehouse, name, product=None, quantity=0.0, lot=None, message=None
    ):
        """Open an alert, or refresh the open one of the same kind."""
        domain = [
            ("alert_type", "=", alert_type),
            ("warehouse_id", "=", warehouse.id),
            ("state", "=", "open"),
            ("product_id", "=", product.id if product else False),
        ]
        alert = self.sudo().search(domain, limit=1)
        vals = {
            "name": name,
            "quantity": quantity,
            "lot_id": lot.id if lot else False,
            "message_ref_id": message.id if message else False,
        }
        if alert:
            alert.write(vals)
            return alert
        alert = self.sudo().create(
            dict(
                vals,
                alert_type=alert_type,
                warehouse_id=warehouse.id,
                product_id=product.id if product else False,
            )
        )
        steward = self.env.ref("healthcare_inventory_sync.group_inventory_data_steward")
        users = warehouse.facility_manager_id or steward.users.filtered(
            lambda u: warehouse.company_id in u.company_ids
        )
        for user in users[:3]:
            # the description may carry partner text (references, lots): escaped
            alert.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=user.id,
                summary=alert.name[:100],
                note=Markup("<p>%s</p>") % alert.name,
            )
        return alert

    @api.model
    def _resolve(self, alert_type, warehouse, product=None):
        self.sudo().search(
            [
                ("alert_type", "=", alert_type),
                ("warehouse_id", "=", warehouse.id),
                ("state", "=", "open"),
                ("product_id", "=", product.id if product else False),
            ]
        ).write({"state": "resolved"})

    def action_resolve(self):
        """Close the alerts and their to-dos (Inventory Users)."""
        if not self.env.user.has_group("stock.group_stock_user"):
            raise AccessError(_("Only Inventory Users may resolve healthcare stock alerts."))
        # the record rules decide which alerts (own companies) the user may act on;
        # the state is then written through this method only (no write right on alerts)
        self.check_access("read")
        alerts = self.sudo()
        alerts.write({"state": "resolved"})
        alerts.activity_ids.action_feedback(feedback=_("Resolved"))
        return True
