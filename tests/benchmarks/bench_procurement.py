"""contract_procurement benchmarks, baselines measured in the same run.

1. Confirming a 200-line purchase order with contract enforcement against the same
   order confirmed without this addon's checks (purchase_stock's own confirmation).
   Target: at most 1.25x.
2. Three-way matching a 1,000-line vendor bill. Target: under 2 seconds.
"""

import os
import time
from datetime import date, timedelta

from odoo import Command, api

from .common import bench_database, load_registry, record

LINES = int(os.environ.get("BENCH_PROCUREMENT_LINES", "200"))
BILL_LINES = int(os.environ.get("BENCH_PROCUREMENT_BILL_LINES", "1000"))
ROUNDS = 3


def _setup(env, count):
    if not env["account.journal"].search([("type", "=", "purchase")], limit=1):
        env["account.chart.template"].try_loading("generic_coa", env.company, install_demo=False)
    supplier = env["res.partner"].create({"name": "Bench supplier", "ref": "BENCH-SUP"})
    products = env["product.product"].create(
        [
            {
                "name": f"Bench item {i}",
                "default_code": f"BI-{i:05d}",
                "is_storable": True,
                "purchase_method": "receive",
            }
            for i in range(count)
        ]
    )
    contract = env["purchase.contract"].create(
        {
            "partner_id": supplier.id,
            "date_start": date.today() - timedelta(days=1),
            "line_ids": [
                Command.create(
                    {"product_id": p.id, "product_uom_id": p.uom_po_id.id, "price": 1.0 + i % 9}
                )
                for i, p in enumerate(products)
            ],
        }
    )
    # approval is a person's act (four eyes); the benchmark measures confirmation only
    env["purchase.contract"]._demo_set_state(contract.ids, "active")
    return supplier.id, products.ids


def _order(env, supplier_id, product_ids):
    return env["purchase.order"].create(
        {
            "partner_id": supplier_id,
            "order_line": [
                Command.create({"product_id": pid, "product_qty": 5}) for pid in product_ids
            ],
        }
    )


def _confirm_without_checks(order):
    from odoo.addons.purchase.models.purchase_order import (  # noqa: PLC0415
        PurchaseOrder as BasePurchaseOrder,
    )

    # Odoo's own confirmation (pickings included, through the MRO below it); our
    # override, which sits above it, is skipped
    BasePurchaseOrder.button_confirm(order)


def main():
    with bench_database(["contract_procurement"], "procurement") as db:
        registry = load_registry(db)
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {"tracking_disable": True})
            supplier_id, product_ids = _setup(env, max(LINES, BILL_LINES))
        confirm = {"with_checks": [], "without_checks": []}
        for _round in range(ROUNDS):
            for kind in ("without_checks", "with_checks"):
                with registry.cursor() as cr:
                    env = api.Environment(cr, 1, {"tracking_disable": True})
                    order = _order(env, supplier_id, product_ids[:LINES])
                    env.flush_all()
                    started = time.perf_counter()
                    if kind == "with_checks":
                        order.button_confirm()
                    else:
                        _confirm_without_checks(order)
                    env.flush_all()
                    confirm[kind].append(time.perf_counter() - started)
                    assert order.state == "purchase"
                    cr.rollback()
            print("round", {k: round(v[-1], 3) for k, v in confirm.items()}, flush=True)
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {"tracking_disable": True})
            order = _order(env, supplier_id, product_ids[:BILL_LINES])
            order.button_confirm()
            picking = order.picking_ids
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.move_ids.picked = True
            picking._action_done()
            bill_lines = []
            for line in order.order_line:
                vals = line._prepare_account_move_line()
                vals.update(quantity=5, price_unit=line.price_unit)
                bill_lines.append(Command.create(vals))
            bill = env["account.move"].create(
                {
                    "move_type": "in_invoice",
                    "partner_id": supplier_id,
                    "ref": "BENCH-BILL",
                    "invoice_date": date.today(),
                    "invoice_line_ids": bill_lines,
                }
            )
            env.flush_all()
            env.invalidate_all()  # measure with a cold cache, as a fresh request would
            started = time.perf_counter()
            bill._run_three_way_match()
            env.flush_all()
            match_seconds = time.perf_counter() - started
            assert not bill.match_exception_ids, bill.match_exception_ids.mapped("description")
            cr.rollback()
    best = {k: min(v) for k, v in confirm.items()}
    figures = {
        "order_lines": LINES,
        "confirm_without_checks_seconds": round(best["without_checks"], 3),
        "confirm_with_checks_seconds": round(best["with_checks"], 3),
        "with_over_without": round(best["with_checks"] / best["without_checks"], 3),
        "confirm_target": "<= 1.25",
        "bill_lines": BILL_LINES,
        "match_seconds": round(match_seconds, 3),
        "match_target": "< 2.0 s",
    }
    record("procurement", figures)
    for key, value in figures.items():
        print(f"{key}: {value}")
