import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

PLATFORM = "DEMO-CONTRACT-PLATFORM"
PORTAL = "DEMO-NORDIC-PORTAL"

# (reference, supplier, item, supplier code, price, start and end in days from today,
#  the states the platform sends, one message each)
DEMO_CONTRACTS = [
    ("DEMO-CP-INFSET-OLD", "SUP-BUDGET", "CT-INFSET", "BS-INF-1", 3.10, -200, 165,
     ["active", "terminated"]),
    ("DEMO-CP-INFSET", "SUP-CAREPLUS", "CT-INFSET", "CP-INF-20", 2.80, -20, 345, ["active"]),
    ("DEMO-CP-GOWN", "SUP-NORDIC", "CT-GOWN", "NM-GWN-L", 12.50, -60, 300, ["active"]),
    ("DEMO-CP-DRESS-SUSP", "SUP-CAREPLUS", "CT-DRESS", "CP-DRS-10", 0.85, -90, 275,
     ["active", "suspended"]),
    ("DEMO-CP-DRESS-NEW", "SUP-BUDGET", "CT-DRESS", "BS-DRS-10", 0.80, 10, 375, ["draft"]),
    ("DEMO-CP-CATH-NEXT", "SUP-CAREPLUS", "CT-CATH", "CP-CTH-14", 1.60, 20, 385, ["active"]),
    ("DEMO-CP-CATH-OLD", "SUP-BUDGET", "CT-CATH", "BS-CTH-14", 1.75, -400, -5, ["approved"]),
]  # fmt: skip

# order notes for the buyers: in the chatter, never in the terms printed on the order
DEMO_ORDER_NOTES = {
    "demo_order_normal": "On contract, at the contract price.",
    "demo_order_off_contract": (
        "Another supplier's contract covers the item: needs a reason and approval."
    ),
    "demo_order_over_price": "Above the contract price: needs a reason and approval.",
    "demo_order_blocked": "Blocked supplier: confirmation stops.",
    "demo_order_pending": "Supplier not yet approved: confirmation stops.",
    "demo_order_harbour": "Harbour Health's own order, at its own contract price.",
}


class IntegrationDemo(models.AbstractModel):
    _inherit = "integration.demo"

    @api.model
    def _demo_load_procurement_story(self):
        """Contracts from the group's platform in every state, orders requested,
        confirmed and acknowledged in every way, bills with match exceptions and one
        a Finance Manager overrode: each through the message handlers or the
        actions a user would press.

        Called while Nordic Medical's portal has its demo endpoint: confirmations
        queue their purchase.order messages, which the demo cancels before any job
        could try to deliver them.
        """
        self._demo_cancel_deliveries()
        self._demo_note_orders()
        self._demo_contracts()
        orders = self._demo_requested_orders()
        self._demo_confirm(orders)
        self._demo_acknowledgements(orders)
        self._demo_bills(orders)
        _logger.info("demo procurement story loaded")

    @api.model
    def _demo_note_orders(self):
        for xmlid, note in DEMO_ORDER_NOTES.items():
            order = self.env.ref(f"contract_procurement.{xmlid}")
            order.message_post(body=Markup("<p>%s</p>") % note, subtype_xmlid="mail.mt_note")

    @api.model
    def _demo_date(self, days):
        return fields.Date.to_string(fields.Date.context_today(self) + timedelta(days=days))

    @api.model
    def _demo_contracts(self):
        for ref, supplier, item, code, price, start, end, states in DEMO_CONTRACTS:
            for index, state in enumerate(states):
                self._demo_process(
                    PLATFORM,
                    "contract.upsert",
                    {
                        "contract": ref,
                        "supplier": supplier,
                        "start_date": self._demo_date(start),
                        "end_date": self._demo_date(end),
                        "state": state,
                        "lines": [{"item": item, "supplier_code": code, "price": price}],
                    },
                    f"demo-contract-{ref}-{index}",
                )
        # the supplier's portal is no trusted platform: its offer waits for review
        self._demo_process(
            PORTAL,
            "contract.upsert",
            {
                "contract": "DEMO-NM-OFFER-GLOVES",
                "supplier": "SUP-NORDIC",
                "start_date": self._demo_date(30),
                "end_date": self._demo_date(395),
                "state": "active",
                "lines": [{"item": "CT-GLOVES", "supplier_code": "NM-GLV-26", "price": 4.05}],
            },
            "demo-contract-offer-gloves",
        )
        # the daily lifecycle: the old catheter contract has ended
        self.env["purchase.contract"]._cron_lifecycle()

    @api.model
    def _demo_requested_orders(self):
        """Draft orders made by the platform's purchase requests, one per supplier."""
        Order = self.env["purchase.order"]
        requests = {
            "accepted": ("DEMO-REQ-101", [("CT-GOWN", 40), ("CT-INFSET", 300)]),
            "changed": ("DEMO-REQ-102", [("CT-GOWN", 20)]),
            "rejected": ("DEMO-REQ-103", [("CT-GOWN", 12)]),
            "overridden": ("DEMO-REQ-104", [("CT-GOWN", 30)]),
        }
        needed_by = (fields.Datetime.now() + timedelta(days=14)).strftime("%Y-%m-%dT08:00:00Z")
        orders = {}
        for key, (request, lines) in requests.items():
            message = self._demo_process(
                PLATFORM,
                "purchase.request",
                {
                    "request": request,
                    "facility": "WH",
                    "needed_by": needed_by,
                    "lines": [{"item": item, "quantity": qty} for item, qty in lines],
                },
                f"demo-request-{request}",
            )
            made = Order.search([("origin", "=", request)], order="id")
            if message.state != "done" or not made:
                raise ValueError(f"demo purchase request {request} made no order")
            orders[key] = made
        return orders

    @api.model
    def _demo_confirm(self, orders):
        """Confirm as the buyer; cancel the deliveries the demo has no server for."""
        admin = self.env.ref("base.user_admin")
        for made in orders.values():
            made.with_user(admin).button_confirm()
        self._demo_cancel_deliveries()

    @api.model
    def _demo_cancel_deliveries(self):
        """Cancel the portal's queued deliveries before any job tries them."""
        portal = self.env["integration.partner"].search([("code", "=", PORTAL)])
        self.env["integration.message"].search(
            [
                ("direction", "=", "outbound"),
                ("partner_id", "=", portal.id),
                ("state", "not in", ("done", "cancelled")),
            ]
        ).with_user(self.env.ref("base.user_admin")).action_cancel()

    @api.model
    def _demo_nordic_order(self, orders, key):
        return orders[key].filtered(lambda o: o.partner_id.ref == "SUP-NORDIC")[:1]

    @api.model
    def _demo_acknowledgements(self, orders):
        """The portal accepts one order, changes the price of another, rejects a third;
        it promises delivery on the date planned."""
        acks = [
            ("accepted", "accepted", 12.50, "accepted"),
            ("changed", "changed", 13.10, "changed"),
            ("rejected", "rejected", 12.50, "rejected"),
            ("overridden", "accepted", 12.50, "accepted"),
        ]
        for key, status, price, line_status in acks:
            order = self._demo_nordic_order(orders, key)
            line = order.order_line[:1]
            self._demo_process(
                PORTAL,
                "purchase.acknowledgement",
                {
                    "purchase_order": order.name,
                    "order_version": order.order_version,
                    "status": status,
                    "lines": [
                        {
                            "item": "NM-GWN-L",
                            "quantity": line.product_qty,
                            "price": price,
                            "promised_date": fields.Date.to_string(line.date_planned),
                            "status": line_status,
                        }
                    ],
                },
                f"demo-ack-{order.name}",
            )

    @api.model
    def _demo_receive_order(self, order):
        """The receipt, validated at the dock as the warehouse would."""
        admin = self.env.ref("base.user_admin")
        for picking in order.picking_ids.filtered(lambda p: p.state not in ("done", "cancel")):
            picking = picking.with_user(admin)
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            picking.button_validate()

    @api.model
    def _demo_bill(self, order, number, quantity, price):
        return self._demo_process(
            PORTAL,
            "vendor.bill",
            {
                "purchase_order": order.name,
                "invoice_number": number,
                "invoice_date": self._demo_date(0),
                "lines": [{"item": "NM-GWN-L", "quantity": quantity, "price": price}],
            },
            f"demo-bill-{number}",
        )

    @api.model
    def _demo_bills(self, orders):
        """A bill that matches, one billed before the goods came and at the changed
        price (match exceptions), and one a Finance Manager posted despite them."""
        accepted = self._demo_nordic_order(orders, "accepted")
        self._demo_receive_order(accepted)
        self._demo_bill(accepted, "NM-INV-DEMO-5001", 40, 12.50)
        changed = self._demo_nordic_order(orders, "changed")
        self._demo_bill(changed, "NM-INV-DEMO-5002", 20, 13.10)
        overridden = self._demo_nordic_order(orders, "overridden")
        message = self._demo_bill(overridden, "NM-INV-DEMO-5003", 30, 12.50)
        bill = self.env["account.move"].search(
            [("move_type", "=", "in_invoice"), ("ref", "=", "NM-INV-DEMO-5003")], limit=1
        )
        if message.state != "done" or not bill:
            raise ValueError("demo bill NM-INV-DEMO-5003 was not made")
        finance = self.env.ref("contract_procurement.demo_user_finance_manager")
        wizard = (
            self.env["purchase.match.override"]
            .with_user(finance)
            .create(
                {
                    "move_id": bill.id,
                    "reason": "Goods taken in by the ward on delivery; the dock booked "
                    "the receipt late.",
                }
            )
        )
        wizard.action_override_and_post()
