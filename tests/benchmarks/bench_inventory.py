"""healthcare_inventory_sync benchmarks, baselines measured in the same run.

1. A 5,000-line ``inventory.snapshot`` through the message path (signed intake,
   validation, storage, job, item resolution, inventory adjustment, audit) against
   applying the same quantities with Odoo's own inventory adjustment
   (``stock.quant`` in inventory mode, ``_apply_inventory``). Target: at most 1.3x.
2. The cross-facility view for 5,000 products by 20 facilities: time to the first
   page (80 rows), as the list view asks for it. Target: under one second.
"""

import json
import os
import time

from odoo import api
from odoo.tools import config

from .common import bench_database, load_registry, record

LINES = int(os.environ.get("BENCH_INVENTORY_LINES", "5000"))
FACILITIES = 20
ROUNDS = 2


def _setup(env):
    from odoo.addons.integration_queue import signing  # noqa: PLC0415 - after addons path

    products = env["product.product"].create(
        [
            {
                "name": f"Bench supply {i}",
                "default_code": f"BS-{i:05d}",
                "is_storable": True,
                "standard_price": 1.0 + (i % 7),
            }
            for i in range(LINES)
        ]
    )
    warehouses = env["stock.warehouse"].create(
        [
            {"name": f"Bench facility {i}", "code": f"BF{i:02d}", "facility_code": f"BF-{i:02d}"}
            for i in range(FACILITIES)
        ]
    )
    partner = env["integration.partner"].create(
        {
            "code": "BENCH-INV",
            "name": "bench",
            "rate_limit": 0,
            "message_type_ids": [
                (6, 0, env.ref("healthcare_inventory_sync.message_type_inventory_snapshot").ids)
            ],
            "facility_ids": [(6, 0, warehouses.ids)],
        }
    )
    secret = signing.generate_secret()
    env["integration.partner.secret"]._store(partner, secret)
    return products.ids, warehouses.ids, secret


def _baseline(env, product_ids, warehouse_id):
    location = env["stock.warehouse"].browse(warehouse_id).lot_stock_id
    quants = (
        env["stock.quant"]
        .with_context(inventory_mode=True)
        .create(
            [
                {"product_id": pid, "location_id": location.id, "inventory_quantity": 10 + i % 50}
                for i, pid in enumerate(product_ids)
            ]
        )
    )
    quants._apply_inventory()
    env.flush_all()


def _message_path(env, secret, warehouse_code):
    from odoo.addons.integration_queue import signing  # noqa: PLC0415 - after addons path

    lines = [{"item": f"BS-{i:05d}", "quantity": 10 + i % 50, "uom": "EA"} for i in range(LINES)]
    body = json.dumps(
        {"facility": warehouse_code, "as_of": "2026-11-25T08:00:00Z", "lines": lines}
    ).encode()
    headers = signing.sign_headers(secret, f"bench-{time.monotonic_ns()}", body)
    headers["X-Partner-Code"] = "BENCH-INV"
    answer = env["integration.gateway"]._receive(
        "inventory.snapshot", headers, body, "application/json", len(body)
    )
    assert answer.status == 202, answer.body
    while env["integration.job"]._run_batch("bulk", 50):
        pass
    env.flush_all()
    message = env["integration.message"].search([("external_id", "=", headers["webhook-id"])])
    assert message.state == "done", message.error


def _fill_facilities(env, product_ids, warehouse_ids):
    """100,000 quants straight into the table: the view reads, it does not care how."""
    cr = env.cr
    for warehouse in env["stock.warehouse"].browse(warehouse_ids):
        cr.execute(
            """
            INSERT INTO stock_quant (product_id, location_id, company_id, quantity,
                                     reserved_quantity, in_date, create_uid, create_date,
                                     write_uid, write_date)
            SELECT p, %s, %s, (p %% 40), 0, now(), 1, now(), 1, now()
              FROM unnest(%s::int[]) AS p
            """,
            [warehouse.lot_stock_id.id, warehouse.company_id.id, product_ids],
        )
    cr.execute("ANALYZE stock_quant")


def _first_page(env, domain):
    Overview = env["healthcare.stock.overview"]
    started = time.perf_counter()
    rows = Overview.web_search_read(
        domain,
        specification={
            "product_id": {"fields": {"display_name": {}}},
            "warehouse_id": {"fields": {"display_name": {}}},
            "on_hand": {},
            "reserved": {},
            "incoming": {},
            "days_of_cover": {},
            "value": {},
            "nearest_expiry": {},
            "is_shortage": {},
        },
        limit=80,
    )
    elapsed = time.perf_counter() - started
    return elapsed, rows["length"]


def main():
    with bench_database(["healthcare_inventory_sync"], "inventory") as db:
        registry = load_registry(db)
        from odoo.addons.integration_queue import secret_box  # noqa: PLC0415

        config.options[secret_box.CONFIG_OPTION] = secret_box.generate_key()
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {"tracking_disable": True})
            product_ids, warehouse_ids, secret = _setup(env)
        timings = {"baseline": [], "message_path": []}
        for _round in range(ROUNDS):
            with registry.cursor() as cr:
                env = api.Environment(cr, 1, {"tracking_disable": True})
                started = time.perf_counter()
                _baseline(env, product_ids, warehouse_ids[0])
                timings["baseline"].append(time.perf_counter() - started)
                cr.rollback()
            with registry.cursor() as cr:
                env = api.Environment(cr, 1, {"tracking_disable": True})
                started = time.perf_counter()
                _message_path(env, secret, "BF-00")
                timings["message_path"].append(time.perf_counter() - started)
                cr.rollback()
            print("round", {k: round(v[-1], 2) for k, v in timings.items()}, flush=True)
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            _fill_facilities(env, product_ids, warehouse_ids)
        with registry.cursor() as cr:
            env = api.Environment(cr, 1, {})
            _first_page(env, [])  # warm the registry caches once
            page_all, total = _first_page(env, [])
            page_shortage, _count = _first_page(
                env, [("is_shortage", "=", False), ("on_hand", ">", 0)]
            )
    best = {key: min(values) for key, values in timings.items()}
    figures = {
        "snapshot_lines": LINES,
        "odoo_inventory_adjustment_seconds": round(best["baseline"], 2),
        "message_path_seconds": round(best["message_path"], 2),
        "message_path_over_adjustment": round(best["message_path"] / best["baseline"], 3),
        "snapshot_target": "<= 1.3",
        "overview_rows": total,
        "overview_first_page_seconds": round(page_all, 3),
        "overview_filtered_first_page_seconds": round(page_shortage, 3),
        "overview_target": "< 1.0 s",
    }
    record("inventory", figures)
    for key, value in figures.items():
        print(f"{key}: {value}")
