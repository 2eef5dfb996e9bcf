"""Cost of audit rules on writing purchase orders, against no audit and OCA auditlog.

Workload, per configuration, in one transaction rolled back afterwards:
1,000 purchase orders created one create() call each, with 10 lines each, then
one write per order changing a header field and one line. Configurations are
measured in the same database and process, interleaved, best of ROUNDS:

* none: no audit rule on purchase.order
* ours: integration_audit rule on purchase.order (create, write, unlink; all fields)
* auditlog_full / auditlog_fast: OCA auditlog 18.0 rule on purchase.order
"""

import os

from odoo import api

from .common import bench_database, load_registry, record, timed

ORDERS = int(os.environ.get("BENCH_AUDIT_ORDERS", "1000"))
LINES = 10
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "2"))


def _setup(env):
    vendor = env["res.partner"].create({"name": "Bench Vendor"})
    products = env["product.product"].create(
        [
            {"name": f"Bench item {i}", "standard_price": 1.0 + i, "type": "consu"}
            for i in range(LINES)
        ]
    )
    env["integration.audit.rule"].search([("model_name", "=", "purchase.order")]).unlink()
    ours = env["integration.audit.rule"].create(
        {"name": "bench", "model_id": env.ref("purchase.model_purchase_order").id, "active": False}
    )
    theirs = env["auditlog.rule"].create(
        {
            "name": "bench",
            "model_id": env.ref("purchase.model_purchase_order").id,
            "log_read": False,
            "log_export_data": False,
        }
    )
    return vendor.id, products.ids, ours.id, theirs.id


def _configure(env, config, ours_id, theirs_id):
    ours = env["integration.audit.rule"].with_context(active_test=False).browse(ours_id)
    theirs = env["auditlog.rule"].browse(theirs_id)
    if theirs.state == "subscribed":
        theirs.unsubscribe()
    ours.active = config == "ours"
    if config.startswith("auditlog_"):
        theirs.log_type = config.split("_")[1]
        theirs.subscribe()


def _workload(env, vendor_id, product_ids):
    orders = env["purchase.order"]
    for n in range(ORDERS):
        orders |= orders.create(
            {
                "partner_id": vendor_id,
                "partner_ref": f"B{n}",
                "order_line": [
                    (0, 0, {"product_id": pid, "product_qty": 1 + i, "price_unit": 2.0 + i})
                    for i, pid in enumerate(product_ids)
                ],
            }
        )
    for order in orders:
        order.write(
            {
                "partner_ref": order.partner_ref + "-r",
                "order_line": [(1, order.order_line[0].id, {"product_qty": 42})],
            }
        )
    env.flush_all()


def main():
    configs = ("none", "ours", "auditlog_full", "auditlog_fast")
    with bench_database(["purchase", "integration_audit", "auditlog"], "audit") as db:
        registry = load_registry(db)
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {"tracking_disable": True})
            vendor_id, product_ids, ours_id, theirs_id = _setup(env)
        best = {}
        for round_no in range(ROUNDS):
            for config in configs:
                with registry.cursor() as cr:
                    _configure(api.Environment(cr, 1, {}), config, ours_id, theirs_id)
                with registry.cursor() as cr:
                    env = api.Environment(cr, 1, {"tracking_disable": True})
                    seconds = timed(_workload, env, vendor_id, product_ids)
                    cr.rollback()
                best[config] = min(best.get(config, seconds), seconds)
                print(f"round {round_no + 1} {config:14s} {seconds:8.2f} s", flush=True)
    base = best["none"]
    ours_cost = best["ours"] - base
    figures = {
        "workload": f"{ORDERS} purchase orders x {LINES} lines: create + one write each",
        "seconds": {k: round(v, 3) for k, v in best.items()},
        "ours_over_no_audit": round(best["ours"] / base, 3),
        "auditlog_full_over_no_audit": round(best["auditlog_full"] / base, 3),
        "auditlog_fast_over_no_audit": round(best["auditlog_fast"] / base, 3),
        "ours_added_cost_over_auditlog_full_added_cost": round(
            ours_cost / max(best["auditlog_full"] - base, 1e-9), 3
        ),
        "ours_added_cost_over_auditlog_fast_added_cost": round(
            ours_cost / max(best["auditlog_fast"] - base, 1e-9), 3
        ),
        "targets": "ours_over_no_audit <= 1.25; ours added cost <= 0.5 x auditlog's",
    }
    record("audit", figures)
    for key, value in figures.items():
        print(f"{key}: {value}")
