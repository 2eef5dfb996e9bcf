import json

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import guard
from .purchase_order import CONFIRMED_STATES, _digest

ACK_STATES = [
    ("not_sent", "Not Sent"),
    ("sent", "Sent"),
    ("acknowledged", "Acknowledged"),
    ("discrepancy", "Discrepancy"),
    ("rejected", "Rejected"),
]
# changes to a confirmed order that the supplier must hear about
TRANSMITTED_FIELDS = {"order_line", "date_planned", "partner_id", "picking_type_id", "notes"}
LINE_TRANSMITTED_FIELDS = {"product_id", "product_qty", "price_unit", "date_planned", "product_uom"}


class ResPartner(models.Model):
    _inherit = "res.partner"

    integration_partner_id = fields.Many2one(
        "integration.partner",
        "Supplier System",
        help="Confirmed purchase orders are sent to this partner system.",
    )


class PurchaseApprovalRule(models.Model):
    """Orders matching a rule need the approval of someone in its group."""

    _name = "purchase.approval.rule"
    _description = "Purchase Approval Rule"
    _order = "min_amount desc, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    min_amount = fields.Monetary("From Amount (untaxed)", currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    warehouse_ids = fields.Many2many(
        "stock.warehouse", string="Facilities", help="Empty: every facility."
    )
    categ_ids = fields.Many2many(
        "product.category", string="Product Categories", help="Empty: every category."
    )
    group_id = fields.Many2one("res.groups", "Approvers", required=True)

    def _matches(self, order):
        self.ensure_one()
        if order.amount_untaxed < self.min_amount:
            return False
        if self.warehouse_ids and order.picking_type_id.warehouse_id not in self.warehouse_ids:
            return False
        if self.categ_ids and not (order.order_line.product_id.categ_id & self.categ_ids):
            return False
        return True


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    def write(self, vals):
        result = super().write(vals)
        if LINE_TRANSMITTED_FIELDS & set(vals):
            self.order_id._void_stale_approvals()
            self.order_id._transmit_if_confirmed()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._void_stale_approvals()
        lines.order_id._transmit_if_confirmed()
        return lines

    def unlink(self):
        orders = self.order_id
        result = super().unlink()
        orders.exists()._void_stale_approvals()
        orders.exists()._transmit_if_confirmed()
        return result


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    order_version = fields.Integer(readonly=True, copy=False, tracking=True)
    ack_state = fields.Selection(
        ACK_STATES, "Acknowledgement", default="not_sent", readonly=True, copy=False, tracking=True
    )
    ack_version = fields.Integer("Acknowledged Version", readonly=True, copy=False)
    ack_date = fields.Datetime("Acknowledged On", readonly=True, copy=False)
    ack_sent_date = fields.Datetime("Sent On", readonly=True, copy=False)
    ack_latency_hours = fields.Float(
        "Acknowledgement Latency (h)", readonly=True, copy=False, aggregator="avg"
    )
    ack_discrepancies = fields.Text(readonly=True, copy=False)
    ack_discrepancy_html = fields.Html(
        "Discrepancies", compute="_compute_ack_discrepancy_html", sanitize=False
    )
    approval_group_ids = fields.Many2many(
        "res.groups", string="Approval Needed From", compute="_compute_approval_group_ids"
    )
    approved_by_id = fields.Many2one(
        "res.users", "Approved By", readonly=True, copy=False, tracking=True
    )
    approval_digest = fields.Char(readonly=True, copy=False)

    @api.depends("ack_discrepancies")
    def _compute_ack_discrepancy_html(self):
        for order in self:
            differences = json.loads(order.ack_discrepancies) if order.ack_discrepancies else []
            order.ack_discrepancy_html = _discrepancy_table(order, differences)

    @api.depends(
        "amount_untaxed",
        "amount_total",
        "picking_type_id",
        "order_line.product_id",
        "company_id.po_double_validation",
        "company_id.po_double_validation_amount",
    )
    def _compute_approval_group_ids(self):
        # computed for orders the caller reads (the ORM checked that); who must approve
        # them is part of the order for AP clerks and inventory users too, who may not
        # read the rules: read as superuser, kept to each order's company below
        rules = self.env["purchase.approval.rule"].sudo().search([])
        for order in self:
            order.approval_group_ids = (
                rules.filtered(
                    lambda rule, o=order: (
                        (not rule.company_id or rule.company_id == o.company_id)
                        and rule._matches(o)
                    )
                ).group_id
                | order._double_validation_group()
            )

    def _double_validation_group(self):
        """Odoo's two-step validation (purchase settings) as one more approval rule: from
        its amount (taxes included, as Odoo compares), a Purchase Administrator approves
        the draft like any rule's approver. One mechanism: see readme/USAGE.md."""
        self.ensure_one()
        company = self.company_id
        if company.po_double_validation != "two_step":
            return self.env["res.groups"]
        threshold = company.currency_id._convert(
            company.po_double_validation_amount,
            self.currency_id,
            company,
            self.date_order or fields.Date.today(),
        )
        if self.amount_total < threshold:
            return self.env["res.groups"]
        return self.env.ref("purchase.group_purchase_manager")

    def _approval_allowed(self):
        """Odoo's "To Approve" step is not used: Confirm Order reaches Odoo's flow only
        after the approval rules (the two-step validation among them) passed."""
        return True

    def action_approve_order(self):
        """Approve an order an approval rule holds: a member of the rule's group who is
        not its buyer; any later change to the order voids the approval."""
        for order in self:
            groups = order.approval_group_ids
            if not groups:
                raise UserError(_("%s needs no approval.", order.name))
            if not (groups & self.env.user.groups_id):
                raise AccessError(
                    _(
                        "Only %(groups)s may approve %(order)s.",
                        groups=", ".join(groups.mapped("full_name")),
                        order=order.name,
                    )
                )
            if order.state not in ("draft", "sent"):
                raise UserError(_("%s is no longer a draft to approve.", order.name))
            order._check_approver_is_not_requester()
            with guard.guarded_write():
                order.write(
                    {"approved_by_id": self.env.uid, "approval_digest": order._approval_digest()}
                )
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _("Purchase order approved"),
                records=order,
                details={"groups": groups.mapped("full_name"), "amount": order.amount_untaxed},
            )
        return True

    def _approval_digest(self):
        """What an approval-rule decision covers: supplier, buyer, facility, every line."""
        self.ensure_one()
        return _digest(
            [
                self.partner_id.id,
                self.user_id.id,
                self.company_id.id,
                self.picking_type_id.id,
                self.currency_id.id,
                [
                    [ln.id, ln.product_id.id, ln.product_qty, ln.price_unit, ln.product_uom.id]
                    for ln in self.order_line.sorted("id")
                ],
            ]
        )

    def _order_approval_holds(self):
        self.ensure_one()
        return bool(self.approved_by_id) and self.approval_digest == self._approval_digest()

    def _check_contract_rules(self):  # pylint: disable=missing-return
        super()._check_contract_rules()
        groups = self.approval_group_ids
        if groups and not self._order_approval_holds():
            # nothing is scheduled here: the error rolls the transaction back. Confirm
            # Order on the form asks the approvers instead (action_request_approval)
            raise UserError(
                _(
                    "%(order)s needs the approval of %(groups)s before confirmation.",
                    order=self.name,
                    groups=", ".join(groups.mapped("full_name")),
                )
            )

    # ------------------------------------------------------------------
    # Transmission
    # ------------------------------------------------------------------

    def button_approve(self, force=False):
        result = super().button_approve(force=force)
        # Confirm Order approves through here, as does the second step of a validation
        for order in self.filtered(lambda o: o.state in CONFIRMED_STATES and not o.order_version):
            order._transmit()
        return result

    def write(self, vals):
        result = super().write(vals)
        if TRANSMITTED_FIELDS & set(vals):
            self._transmit_if_confirmed()
        if {"picking_type_id", "currency_id", "company_id"} & set(vals):
            self._void_stale_approvals()
        return result

    def _transmit_if_confirmed(self):
        """A change to a transmitted order is a new version for the supplier."""
        if self.env.context.get("skip_transmission"):
            return
        for order in self.filtered(lambda o: o.state == "purchase" and o.order_version):
            order._transmit()

    def _transmit(self):
        """Send the order (a new version) to the supplier's system, if it has one."""
        self.ensure_one()
        # the caller confirms or changes this very order: it must be allowed to write it.
        # Then the supplier's system is read as superuser, as buyers hold no Integration
        # group; only its endpoint is used here, never its secrets.
        self.check_access("write")
        system = self.sudo().partner_id.commercial_partner_id.integration_partner_id
        vals = {"order_version": self.order_version + 1}
        if system and system.outbound_url:
            vals.update(ack_state="sent", ack_sent_date=fields.Datetime.now())
        with guard.guarded_write():
            self.with_context(skip_transmission=True).write(vals)
        if system and system.outbound_url:
            self.env["integration.message"]._send_outbound(
                system,
                "purchase.order",
                self._canonical_payload(),
                records=self,
                external_id=f"po_{self.id}_v{self.order_version}",
                ordering_key=f"purchase_order={self.name}",
            )

    def _canonical_payload(self):
        """The documented canonical JSON of a purchase order (see readme/USAGE.md)."""
        self.ensure_one()
        warehouse = self.picking_type_id.warehouse_id
        return {
            "purchase_order": self.name,
            "order_version": self.order_version,
            "supplier": self.partner_id.commercial_partner_id.ref or None,
            "buyer_company": self.company_id.name,
            "facility": getattr(warehouse, "facility_code", None) or warehouse.code,
            "currency": self.currency_id.name,
            "date_order": fields.Datetime.to_string(self.date_order),
            "lines": [
                {
                    "line": line.id,
                    "item": (line.contract_line_id.supplier_code or line.product_id.default_code),
                    "description": line.name,
                    "quantity": line.product_qty,
                    "uom": line.product_uom.name,
                    "price": line.price_unit,
                    "date_planned": fields.Datetime.to_string(line.date_planned),
                }
                for line in self.order_line.filtered(lambda ln: not ln.display_type)
            ],
            "amount_untaxed": self.amount_untaxed,
        }

    def _apply_acknowledgement(self, payload):
        """Record a supplier acknowledgement; an older version never overwrites a newer one."""
        self.ensure_one()
        version = payload["order_version"]
        if version < (self.ack_version or 0) or version > self.order_version:
            return {
                "applied": False,
                "stale": True,
                "ack_version": self.ack_version,
                "order_version": self.order_version,
            }
        differences = self._ack_differences(payload)
        if payload["status"] == "rejected":
            state = "rejected"
        elif differences or payload["status"] == "changed":
            state = "discrepancy"
        else:
            state = "acknowledged"
        now = fields.Datetime.now()
        with guard.guarded_write():
            self.with_context(skip_transmission=True).write(
                {
                    "ack_state": state,
                    "ack_version": version,
                    "ack_date": now,
                    "ack_latency_hours": (
                        (now - self.ack_sent_date).total_seconds() / 3600
                        if self.ack_sent_date
                        else 0.0
                    ),
                    "ack_discrepancies": (
                        json.dumps(differences, indent=1) if differences else False
                    ),
                }
            )
        if state in ("discrepancy", "rejected"):
            self.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=(self._responsible_user() or self.env.user).id,
                summary=_("Supplier %(state)s on %(order)s", state=state, order=self.name),
                note=self._ack_activity_note(payload, differences),
            )
        return {"applied": True, "ack_state": state, "differences": differences}

    def _ack_activity_note(self, payload, differences):
        """The buyer's note: the supplier's words escaped, one difference a line."""
        if not differences:
            return Markup("<p>%s</p>") % payload["status"]
        return Markup("<ul>%s</ul>") % Markup().join(
            Markup("<li>%s</li>") % difference["description"] for difference in differences
        )

    def _ack_differences(self, payload):
        differences = []
        lines = {
            (ln.contract_line_id.supplier_code or ln.product_id.default_code): ln
            for ln in self.order_line.filtered(lambda ln: not ln.display_type)
        }
        for ack in payload.get("lines", []):
            line = lines.get(ack["item"])
            if not line:
                differences.append(
                    {
                        "item": ack["item"],
                        "line": "",
                        "field": "item",
                        "ordered": None,
                        "acknowledged": ack["item"],
                        "description": _("%s is not on the order", ack["item"]),
                    }
                )
                continue
            for field, ordered, acked in (
                ("quantity", line.product_qty, ack.get("quantity")),
                ("price", line.price_unit, ack.get("price")),
            ):
                if acked is not None and abs(float(acked) - ordered) > 1e-6:
                    differences.append(
                        {
                            "item": ack["item"],
                            "line": line.name,
                            "field": field,
                            "ordered": ordered,
                            "acknowledged": acked,
                            "description": _(
                                "%(item)s: %(field)s %(acked)s instead of %(ordered)s",
                                item=ack["item"],
                                field=field,
                                acked=acked,
                                ordered=ordered,
                            ),
                        }
                    )
            promised = ack.get("promised_date")
            if promised and promised[:10] > fields.Date.to_string(line.date_planned.date()):
                differences.append(
                    {
                        "item": ack["item"],
                        "line": line.name,
                        "field": "promised_date",
                        "ordered": fields.Date.to_string(line.date_planned.date()),
                        "acknowledged": promised[:10],
                        "description": _(
                            "%(item)s: promised for %(promised)s, needed %(planned)s",
                            item=ack["item"],
                            promised=promised[:10],
                            planned=line.date_planned.date(),
                        ),
                    }
                )
        return differences

    @api.model
    def _find_by_reference(self, reference, company, suppliers=None):
        """The order named ``reference`` in ``company`` (and of ``suppliers``, when given)."""
        domain = [("name", "=", reference), ("company_id", "=", company.id)]
        if suppliers is not None:
            domain.append(("partner_id", "child_of", suppliers.commercial_partner_id.ids))
        return self.sudo().search(domain, limit=1)


def _discrepancy_labels(env):
    return {
        "item": env._("Item"),
        "quantity": env._("Quantity"),
        "price": env._("Unit Price"),
        "promised_date": env._("Promised Date"),
    }


def _discrepancy_table(order, differences):
    """The acknowledgement's differences as a table (line, field, ordered, acknowledged);
    every cell is escaped: items and values come from the supplier."""
    if not differences:
        return False
    env = order.env
    labels = _discrepancy_labels(env)
    header = Markup("").join(
        Markup("<th>%s</th>") % title
        for title in (
            env._("Line"),
            env._("Item"),
            env._("Field"),
            env._("Ordered"),
            env._("Acknowledged"),
        )
    )
    rows = Markup("").join(
        Markup("<tr>%s</tr>")
        % Markup("").join(
            Markup("<td>%s</td>") % ("" if value is None else value)
            for value in (
                difference.get("line") or env._("(not on the order)"),
                difference.get("item"),
                labels.get(difference.get("field"), difference.get("field")),
                difference.get("ordered"),
                difference.get("acknowledged"),
            )
        )
        for difference in differences
    )
    return Markup(
        '<table class="table table-sm table-bordered o_ack_discrepancies">'
        "<thead><tr>%s</tr></thead><tbody>%s</tbody></table>"
    ) % (header, rows)
