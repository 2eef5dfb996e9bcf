"""What stops an order's confirmation, who is asked to approve it, and how the buyer sees it.

The controls themselves stay in ``purchase_order.py`` (off-contract lines) and
``purchase_order_transmission.py`` (approval rules): ``button_confirm`` refuses an order
they stop. The form's *Confirm Order* asks instead (``CONFIRM_DIALOG`` in its context): the
off-contract reason in a dialog, then an activity for each approver. The context key only
chooses between a refusal and a question; neither confirms anything.
"""

from markupsafe import Markup

from odoo import _, api, fields, models

from .purchase_order import PROCUREMENT_MANAGER

# set by the form's Confirm Order buttons (views/purchase_order_views.xml)
CONFIRM_DIALOG = "contract_procurement_confirm_dialog"
APPROVAL_ACTIVITY = "contract_procurement.mail_activity_type_purchase_approval"
# a group of approvers is a team: a few of its members are asked, not all of them
MAX_APPROVERS_ASKED = 5
OPEN_STATES = ("draft", "sent")
CONFIRMATION_STATUSES = [
    ("ready", "Ready to Confirm"),
    ("blocked", "Blocked"),
    ("to_approve", "To Approve"),
]


class PurchaseOrderLine(models.Model):
    _inherit = "purchase.order.line"

    other_contract_line_id = fields.Many2one(
        "purchase.contract.line",
        "Other Supplier's Contract",
        compute="_compute_other_contract",
        help="The cheapest active contract another supplier holds for this product.",
    )
    other_contract_price = fields.Float(
        "Other Supplier's Price", compute="_compute_other_contract", digits="Product Price"
    )
    other_contract_partner_id = fields.Many2one(
        "res.partner", "Other Supplier", compute="_compute_other_contract"
    )

    @api.depends("product_id", "partner_id", "product_qty", "order_id.date_order")
    def _compute_other_contract(self):
        for line in self:
            other = line._cheapest_other_contract_line()
            line.other_contract_line_id = other
            line.other_contract_price = other._price_for(line.product_qty) if other else 0.0
            line.other_contract_partner_id = other.partner_id

    def _cheapest_other_contract_line(self):
        """The active contract line of another supplier that prices this product lowest."""
        self.ensure_one()
        ContractLine = self.env["purchase.contract.line"]
        order = self.order_id
        # users who see orders but not contracts (e.g. from a receipt) see no alternative
        if not (self.product_id and order and ContractLine.has_access("read")):
            return ContractLine
        warehouse = order.picking_type_id.warehouse_id
        on_date = fields.Date.to_date(order.date_order) or fields.Date.context_today(self)
        # the company is the order's, and the buyer may read contract lines of his
        # companies only: the search runs as the caller, under his record rules
        candidates = ContractLine.search(
            [
                ("product_id", "=", self.product_id.id),
                ("company_id", "=", order.company_id.id),
                ("state", "=", "active"),
                ("partner_id", "!=", self.partner_id.commercial_partner_id.id),
                ("contract_id.date_start", "<=", on_date),
                "|",
                ("contract_id.date_end", "=", False),
                ("contract_id.date_end", ">=", on_date),
            ]
        ).filtered(
            lambda ln: not ln.contract_id.warehouse_ids or warehouse in ln.contract_id.warehouse_ids
        )
        if not candidates:
            return candidates
        return candidates.sorted(lambda ln: (ln._price_for(self.product_qty), ln.id))[0]


class PurchaseOrder(models.Model):
    _inherit = "purchase.order"

    confirmation_status = fields.Selection(
        CONFIRMATION_STATUSES,
        compute="_compute_confirmation_status",
        search="_search_confirmation_status",
        help="Ready: Confirm Order confirms it. Blocked: the buyer must act first (supplier "
        "status, off-contract reason). To Approve: waiting for an approver.",
    )
    status_banner = fields.Html(compute="_compute_confirmation_status", sanitize=False)

    @api.depends(
        "state",
        "partner_id.commercial_partner_id.supplier_status",
        "order_line.off_contract",
        "off_contract_reason",
        "off_contract_approved_by_id",
        "approved_by_id",
        "approval_group_ids",
        "invoice_ids.match_state",
        "ack_state",
    )
    def _compute_confirmation_status(self):
        for order in self:
            blockers = order._confirmation_blockers()
            kinds = {kind for kind, _message in blockers}
            if kinds & {"supplier", "reason"}:
                status = "blocked"
            elif "approval" in kinds:
                status = "to_approve"
            elif order.state in OPEN_STATES:
                status = "ready"
            else:
                status = False
            order.confirmation_status = status
            messages = [message for _kind, message in blockers] + order._follow_up_notes()
            order.status_banner = (
                Markup("<ul class='mb-0'>%s</ul>")
                % Markup().join(Markup("<li>%s</li>") % message for message in messages)
                if messages
                else False
            )

    def _search_confirmation_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise NotImplementedError(_("Unsupported search on the confirmation status."))
        values = {value} if operator in ("=", "!=") else set(value or ())
        # computed in Python: only orders not yet confirmed (or in Odoo's To Approve) have one
        pending = self.search([("state", "in", (*OPEN_STATES, "to approve"))])
        matching = pending.filtered(lambda o: o.confirmation_status in values)
        if operator in ("=", "in"):
            return [("id", "in", matching.ids)]
        return [("id", "not in", matching.ids)]

    def _confirmation_blockers(self):
        """What stops Confirm Order now, as (kind, message) pairs; kinds: ``supplier``,
        ``reason`` (the buyer acts), ``approval`` (an approver acts). Messages are Markup,
        partner text escaped."""
        self.ensure_one()
        if self.state == "to approve":
            return [
                (
                    "approval",
                    _("Waiting for a Purchase Administrator to approve it (Approve Order)."),
                )
            ]
        if self.state not in OPEN_STATES:
            return []
        blockers = []
        supplier = self.partner_id.commercial_partner_id
        if supplier and supplier.supplier_status != "approved":
            blockers.append(
                (
                    "supplier",
                    Markup(
                        _(
                            "Supplier %(supplier)s is %(status)s%(reason)s: a Procurement Manager "
                            "must approve the supplier before the order can be confirmed."
                        )
                    )
                    % {
                        "supplier": supplier.display_name,
                        "status": dict(
                            supplier._fields["supplier_status"]._description_selection(self.env)
                        )[supplier.supplier_status].lower(),
                        "reason": (
                            f" ({supplier.supplier_status_reason})"
                            if supplier.supplier_status_reason
                            else ""
                        ),
                    },
                )
            )
        off = self.order_line.filtered("off_contract")
        if off and not self.off_contract_reason:
            blockers.append(
                (
                    "reason",
                    Markup(
                        _(
                            "Off-contract lines (%(products)s): Confirm Order asks for the reason, "
                            "then a Procurement Manager approves them."
                        )
                    )
                    % {"products": ", ".join(off.product_id.mapped("display_name"))},
                )
            )
        elif off and not self._off_contract_approval_holds():
            blockers.append(
                (
                    "approval",
                    Markup(
                        _(
                            "Off-contract lines (%(products)s) wait for a Procurement Manager's "
                            "approval (neither the creator nor the buyer)."
                        )
                    )
                    % {"products": ", ".join(off.product_id.mapped("display_name"))},
                )
            )
        groups = self.approval_group_ids
        if groups and not self._order_approval_holds():
            blockers.append(
                (
                    "approval",
                    Markup(
                        _("An approval rule holds it: %(groups)s must approve it (Approve Order).")
                    )
                    % {"groups": ", ".join(groups.mapped("full_name"))},
                )
            )
        return blockers

    def _follow_up_notes(self):
        """What holds a confirmed order's bills or the supplier's answer."""
        self.ensure_one()
        notes = []
        # the reader may read the order (checked by Odoo for this computed field), not
        # necessarily accounting: a warehouse user opening it from a receipt. The bills'
        # names and match state are all that is shown of them.
        held = self.sudo().invoice_ids.filtered(lambda m: m.match_state == "exception")
        if held:
            notes.append(
                Markup(
                    _(
                        "Bills held by three-way match exceptions: %(bills)s (see their "
                        "Three-way Match page)."
                    )
                )
                % {"bills": ", ".join(held.mapped("display_name"))}
            )
        if self.ack_state in ("discrepancy", "rejected"):
            notes.append(
                _(
                    "The supplier's acknowledgement differs from the order "
                    "(page Supplier Acknowledgement)."
                )
                if self.ack_state == "discrepancy"
                else _("The supplier rejected the order (page Supplier Acknowledgement).")
            )
        return notes

    # ------------------------------------------------------------------
    # Confirm Order from the form: ask instead of refusing
    # ------------------------------------------------------------------

    def button_confirm(self):
        if self.env.context.get(CONFIRM_DIALOG) and len(self) == 1:
            action = self._confirmation_dialog_action()
            if action:
                return action
        return super().button_confirm()

    def _confirmation_dialog_action(self):
        """The dialog or notice Confirm Order answers with instead of an error, or None
        when the order goes through (or is refused by the checks, e.g. its supplier)."""
        self.ensure_one()
        kinds = {kind for kind, _message in self._confirmation_blockers()}
        if self.state not in OPEN_STATES or "supplier" in kinds:
            return None
        if "reason" in kinds:
            return self._off_contract_reason_action()
        if "approval" in kinds:
            approvers = self.action_request_approval()
            return self._approval_requested_notice(approvers)
        return None

    def _off_contract_reason_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Why buy off contract?"),
            "res_model": "purchase.order.off.contract.reason",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def _approval_requested_notice(self, approvers):
        message = (
            _("Approval requested from %s.", ", ".join(approvers.mapped("name")))
            if approvers
            else _(
                "Nobody who may approve it was found: ask a Procurement Manager "
                "(or the approval rule's group)."
            )
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("%s waits for approval", self.name),
                "message": message,
                "type": "warning" if approvers else "danger",
                # closing (the reason dialog, if any) makes the form reload its record;
                # soft_reload would reopen a form started as "New" empty
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_request_approval(self):
        """Give each person who may approve what the order waits for an activity (once).

        Returns the users asked (now or before)."""
        asked = self.env["res.users"]
        for order in self:
            # the caller must be allowed to change the order he asks approval for; the
            # approvers are then read as superuser (group members are not his to read)
            order.check_access("write")
            approvers = order.sudo()._pending_approvers().with_env(self.env)
            already = order.activity_ids.filtered(
                lambda a: a.activity_type_id == self.env.ref(APPROVAL_ACTIVITY)
            ).user_id
            note = order._approval_activity_note()
            for user in approvers - already:
                order._schedule_activity_for(
                    user, APPROVAL_ACTIVITY, _("Approve %s", order.name), note
                )
            asked |= approvers
        return asked

    def _pending_approvers(self):
        """Who may give the approvals the order waits for: members of the groups (a
        Procurement Manager for off-contract lines, the rules' groups), real people of the
        order's company who may read it, never its creator, buyer or OdooBot."""
        self.ensure_one()
        groups = self.env["res.groups"]
        if self.order_line.filtered("off_contract") and not self._off_contract_approval_holds():
            groups |= self.env.ref(PROCUREMENT_MANAGER)
        if self.approval_group_ids and not self._order_approval_holds():
            groups |= self.approval_group_ids
        approvers = self.env["res.users"]
        for group in groups:
            members = group.users.filtered(
                lambda u: (
                    self._is_responsible_person(u)
                    and self.company_id in u.company_ids
                    and u not in (self.create_uid | self.user_id)
                    and self.with_user(u).has_access("write")
                )
            ).sorted("id")
            approvers |= members[:MAX_APPROVERS_ASKED]
        return approvers

    def _approval_activity_note(self):
        self.ensure_one()
        messages = [m for kind, m in self._confirmation_blockers() if kind == "approval"]
        note = Markup("<ul>%s</ul>") % Markup().join(Markup("<li>%s</li>") % m for m in messages)
        if self.off_contract_reason:
            reasons = dict(self._fields["off_contract_reason"]._description_selection(self.env))
            note += Markup("<p>%s</p>") % _(
                "Reason given: %(reason)s %(note)s",
                reason=reasons[self.off_contract_reason],
                note=self.off_contract_note or "",
            )
        return note

    def _schedule_activity_for(self, user, activity_xmlid, summary, note):
        """An activity for ``user``. Odoo e-mails the assignee with the caller as sender,
        and refuses to when the caller has no address: then the activity is only shown
        (in the assignee's activities), not e-mailed."""
        self.ensure_one()
        record = self
        if not self.env.su and not self.env.user.email:
            record = self.with_context(mail_activity_quick_update=True)
        return record.activity_schedule(activity_xmlid, user_id=user.id, summary=summary, note=note)

    def _close_approval_requests(self):
        """Once nothing waits for approval, the approvers' requests go and the buyer is
        told to confirm (no message posted: the approver may have no e-mail address)."""
        for order in self:
            if any(kind == "approval" for kind, _m in order._confirmation_blockers()):
                continue
            order.activity_unlink([APPROVAL_ACTIVITY])
            buyer = order._responsible_user()
            if buyer and buyer != self.env.user:
                order._schedule_activity_for(
                    buyer,
                    "mail.mail_activity_data_todo",
                    _("Confirm %s: approved", order.name),
                    Markup("<p>%s</p>")
                    % _("Approved by %s; Confirm Order sends it.", self.env.user.name),
                )

    def action_approve_off_contract(self):
        result = super().action_approve_off_contract()
        self._close_approval_requests()
        return result

    def action_approve_order(self):
        result = super().action_approve_order()
        self._close_approval_requests()
        return result
