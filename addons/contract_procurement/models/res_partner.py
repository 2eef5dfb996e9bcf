from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from .. import guard
from .account_move import BILL_PO_POLICIES, MATCH_OVERRIDE

PROCUREMENT_MANAGER = "contract_procurement.group_procurement_manager"

SUPPLIER_STATUS = [
    ("pending", "Pending Approval"),
    ("approved", "Approved"),
    ("suspended", "Suspended"),
    ("blocked", "Blocked"),
]
# how strict a status is: a message may make a person's hold stricter, never lift it
SUPPLIER_STATUS_SEVERITY = {"approved": 0, "pending": 1, "suspended": 2, "blocked": 3}
# who sees a supplier's documents on the vendor form: buyers and the AP side
SUPPLIER_DOCUMENT_READERS = "purchase.group_purchase_user,account.group_account_invoice"
# an order still in progress: to confirm, or confirmed and not yet fully received or billed
OPEN_ORDER_DOMAIN = [
    "|",
    ("state", "in", ("draft", "sent", "to approve")),
    "&",
    ("state", "=", "purchase"),
    "|",
    ("receipt_status", "in", ("pending", "partial")),
    ("invoice_status", "=", "to invoice"),
]


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "contract.procurement.guarded"]

    # a supplier becomes orderable again only through a Procurement Manager's action
    _guarded_fields = ("supplier_status", "supplier_hold_by_id")
    _guarded_create_defaults = {"supplier_status": "approved", "supplier_hold_by_id": False}

    supplier_status = fields.Selection(
        SUPPLIER_STATUS,
        default="approved",
        readonly=True,
        tracking=True,
        company_dependent=False,
        help="Only approved suppliers can have purchase orders confirmed.",
    )
    supplier_status_reason = fields.Char(tracking=True)
    supplier_hold_by_id = fields.Many2one(
        "res.users",
        "Suspended/Blocked By",
        readonly=True,
        copy=False,
        tracking=True,
        help="The Procurement Manager who suspended or blocked the supplier: only a "
        "Procurement Manager lifts it, never a partner's message.",
    )
    supplier_document_ids = fields.One2many(
        "res.partner.supplier.document", "partner_id", "Supplier Documents"
    )
    # letting bills through without an order is the override's decision: its group sets it
    bill_po_policy = fields.Selection(
        BILL_PO_POLICIES,
        "Bills Without Order",
        groups=MATCH_OVERRIDE,
        help="Whether this vendor's bills need a purchase order; comes before the journal's "
        "and the product categories' policy. Empty: they decide.",
    )
    bill_po_threshold = fields.Float("No-order Approval Threshold", groups=MATCH_OVERRIDE)
    supplier_contract_count = fields.Integer(
        "Contracts", compute="_compute_supplier_document_counts", groups=SUPPLIER_DOCUMENT_READERS
    )
    supplier_open_order_count = fields.Integer(
        "Open Orders", compute="_compute_supplier_document_counts", groups=SUPPLIER_DOCUMENT_READERS
    )
    supplier_exception_bill_count = fields.Integer(
        "Bills in Exception",
        compute="_compute_supplier_document_counts",
        groups=SUPPLIER_DOCUMENT_READERS,
    )

    def _compute_supplier_document_counts(self):
        # counted as the reader: record rules and company hold, so a count never shows
        # documents the reader could not open from the button
        counts = {
            "supplier_contract_count": self._supplier_documents_count("purchase.contract"),
            "supplier_open_order_count": self._supplier_documents_count("purchase.order"),
            "supplier_exception_bill_count": self._supplier_documents_count("account.move"),
        }
        for partner in self:
            commercial = partner.commercial_partner_id.id
            for name, by_partner in counts.items():
                partner[name] = by_partner.get(commercial, 0)

    def _supplier_documents_domain(self, model):
        """The domain of the vendor form's smart button on ``model`` for these suppliers."""
        commercial = self.commercial_partner_id.ids
        if model == "purchase.contract":
            return [("partner_id", "in", commercial)]
        if model == "purchase.order":
            return [("partner_id.commercial_partner_id", "in", commercial), *OPEN_ORDER_DOMAIN]
        return [
            ("commercial_partner_id", "in", commercial),
            ("move_type", "in", ("in_invoice", "in_refund")),
            ("match_state", "=", "exception"),
        ]

    def _supplier_documents_count(self, model):
        """Commercial partner id -> number of ``model`` documents the reader may see."""
        Model = self.env[model]
        partners = self.filtered("id")
        if not partners or not Model.has_access("read"):
            return {}
        group_field = "commercial_partner_id" if model == "account.move" else "partner_id"
        counts = {}
        for partner, count in Model._read_group(
            partners._supplier_documents_domain(model), [group_field], ["__count"]
        ):
            commercial = partner.commercial_partner_id.id
            counts[commercial] = counts.get(commercial, 0) + count
        return counts

    def _action_supplier_documents(self, xmlid, model):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = self._supplier_documents_domain(model)
        action["context"] = {
            "default_partner_id": self.commercial_partner_id.id,
            "search_default_partner_id": False,
        }
        return action

    def action_view_supplier_contracts(self):
        """The supplier's contracts, in every state."""
        return self._action_supplier_documents(
            "contract_procurement.purchase_contract_action", "purchase.contract"
        )

    def action_view_supplier_open_orders(self):
        """The supplier's orders still to confirm, receive or bill."""
        return self._action_supplier_documents("purchase.purchase_form_action", "purchase.order")

    def action_view_supplier_exception_bills(self):
        """The supplier's bills that Confirm refuses on the three-way match."""
        action = self._action_supplier_documents(
            "account.action_move_in_invoice_type", "account.move"
        )
        action["context"]["default_move_type"] = "in_invoice"
        return action

    def _check_can_supply(self):
        """Raise a clear error unless this supplier may be ordered from."""
        supplier = self.commercial_partner_id
        if supplier.supplier_status != "approved":
            raise UserError(
                _(
                    "%(supplier)s is %(status)s as a supplier%(reason)s: the order cannot be "
                    "confirmed.",
                    supplier=supplier.display_name,
                    status=dict(SUPPLIER_STATUS)[supplier.supplier_status].lower(),
                    reason=f" ({supplier.supplier_status_reason})"
                    if supplier.supplier_status_reason
                    else "",
                )
            )

    def action_supplier_approve(self):
        """Approve suppliers for ordering (Procurement Manager), with the reason written."""
        return self._action_supplier_status("approved")

    def action_supplier_suspend(self):
        """Suspend suppliers (Procurement Manager), with the reason written."""
        return self._action_supplier_status("suspended")

    def action_supplier_block(self):
        """Block suppliers (Procurement Manager), with the reason written."""
        return self._action_supplier_status("blocked")

    def _action_supplier_status(self, status):
        if not self.env.user.has_group(PROCUREMENT_MANAGER):
            raise AccessError(_("Only a Procurement Manager changes a supplier's status."))
        for partner in self:
            partner.commercial_partner_id._set_supplier_status(
                status,
                partner.commercial_partner_id.supplier_status_reason,
                held_by=self.env.user if status != "approved" else self.env["res.users"],
            )
        return True

    def _message_may_set_status(self, status):
        """A partner's message never lifts a suspension or block a person set: while that
        person's hold lasts, it may only make the status stricter."""
        self.ensure_one()
        return not self.supplier_hold_by_id or (
            SUPPLIER_STATUS_SEVERITY[status] >= SUPPLIER_STATUS_SEVERITY[self.supplier_status]
        )

    def _set_supplier_status(self, status, reason=None, held_by=None):
        """Write the status; ``held_by`` (a person's action) sets or clears the hold, None
        (crons, messages) keeps it."""
        for partner in self:
            previous = partner.supplier_status
            vals = {"supplier_status": status, "supplier_status_reason": reason or False}
            if held_by is not None:
                vals["supplier_hold_by_id"] = held_by.id
            with guard.guarded_write():
                partner.write(vals)
            self.env["integration.audit.event"].sudo()._log(
                "manual_action",
                _(
                    "Supplier %(name)s: %(old)s -> %(new)s",
                    name=partner.display_name,
                    old=previous,
                    new=status,
                ),
                records=partner,
                details={"from": previous, "to": status, "reason": reason},
            )


class ResPartnerSupplierDocument(models.Model):
    """A licence, certificate or insurance of a supplier, with its expiry."""

    _name = "res.partner.supplier.document"
    _description = "Supplier Document"
    _order = "expiry_date"

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="partner_id.company_id", store=True, index=True)
    document_type = fields.Selection(
        [
            ("licence", "Licence"),
            ("certificate", "Certificate"),
            ("insurance", "Insurance"),
            ("other", "Other"),
        ],
        required=True,
        default="licence",
    )
    name = fields.Char(required=True)
    expiry_date = fields.Date()
    required = fields.Boolean(default=True, help="When it expires, the supplier is suspended.")
    attachment_id = fields.Many2one("ir.attachment")
    is_expired = fields.Boolean(compute="_compute_is_expired")

    @api.depends("expiry_date")
    def _compute_is_expired(self):
        today = fields.Date.context_today(self)
        for document in self:
            document.is_expired = bool(document.expiry_date and document.expiry_date < today)

    @api.model
    def _cron_check_expiry(self):
        """Suspend approved suppliers whose required document expired; tell the buyer."""
        today = fields.Date.context_today(self)
        expired = self.search(
            [
                ("required", "=", True),
                ("expiry_date", "<", today),
                ("partner_id.supplier_status", "=", "approved"),
            ]
        )
        for partner in expired.partner_id:
            documents = expired.filtered(lambda d, p=partner: d.partner_id == p)
            reason = _("expired: %s", ", ".join(documents.mapped("name")))
            partner._set_supplier_status("suspended", reason)
            buyer = partner.buyer_id or partner.user_id
            if not self.env["purchase.order"]._is_responsible_person(buyer):
                buyer = self.env["purchase.order"]._procurement_responsible(
                    partner.company_id or self.env.company, partner=partner
                ) or self.env.ref("base.user_admin")
            partner.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=buyer.id,
                summary=_("Supplier suspended: document expired"),
                # document names come from supplier messages: escaped, never markup
                note=Markup("<p>%s</p>")
                % _(
                    "%(supplier)s was suspended because its documents %(reason)s.",
                    supplier=partner.display_name,
                    reason=reason,
                ),
            )
        return expired.partner_id
