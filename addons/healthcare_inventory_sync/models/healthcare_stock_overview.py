from odoo import _, fields, models

# Internal locations of each facility, and stock consumed out of them in 30 days.
FACILITY_LOCATIONS = """
    SELECT w.id AS warehouse_id, w.company_id, l.id AS location_id
      FROM stock_warehouse w
      JOIN stock_location v ON v.id = w.view_location_id
      JOIN stock_location l ON l.parent_path LIKE v.parent_path || '%%'
     WHERE l.usage = 'internal' AND w.facility_code IS NOT NULL
"""
CONSUMPTION_30D = """
    SELECT fl.warehouse_id, m.product_id, sum(m.product_qty) / 30.0 AS avg_daily
      FROM stock_move m
      JOIN facility_locations fl ON fl.location_id = m.location_id
      JOIN stock_location d ON d.id = m.location_dest_id
     WHERE m.state = 'done' AND d.usage IN ('inventory', 'customer', 'production')
       AND m.date > (now() at time zone 'UTC') - interval '30 days'
     GROUP BY fl.warehouse_id, m.product_id
"""


class HealthcareStockOverview(models.Model):
    """What every facility holds, product by facility, in one place."""

    _name = "healthcare.stock.overview"
    _description = "Cross-facility Stock"
    _auto = False
    _order = "product_id, warehouse_id"

    warehouse_id = fields.Many2one("stock.warehouse", "Facility", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    categ_id = fields.Many2one("product.category", "Category", readonly=True)
    is_critical = fields.Boolean("Critical", readonly=True)
    on_hand = fields.Float(readonly=True, digits="Product Unit of Measure")
    reserved = fields.Float(readonly=True, digits="Product Unit of Measure")
    incoming = fields.Float(readonly=True, digits="Product Unit of Measure")
    minimum = fields.Float(readonly=True, digits="Product Unit of Measure")
    avg_daily_consumption = fields.Float("Avg Daily Use (30 d)", readonly=True, digits=(16, 3))
    # empty (SQL NULL) without consumption: no use means no end date, never 0 days
    days_of_cover = fields.Float(readonly=True, digits=(16, 1), aggregator="min")
    days_of_cover_display = fields.Char(
        "Days of Cover",
        readonly=True,
        help="Whole days the stock on hand lasts at the average daily use of the last 30 "
        "days; ∞ when there is stock and no use, empty when there is neither.",
    )
    value = fields.Float(readonly=True, digits="Product Price")
    nearest_expiry = fields.Date(readonly=True, aggregator="min")
    is_shortage = fields.Boolean("Shortage", readonly=True)

    @property
    def _table_query(self):
        return f"""
            WITH facility_locations AS ({FACILITY_LOCATIONS}),
            on_hand AS (
                SELECT fl.warehouse_id, q.product_id, sum(q.quantity) AS on_hand,
                       sum(q.reserved_quantity) AS reserved,
                       -- lots expire at midnight UTC of their date (see _prepare_lot_vals)
                       (min(lot.expiration_date) FILTER (WHERE q.quantity > 0))::date
                           AS nearest_expiry
                  FROM stock_quant q
                  JOIN facility_locations fl ON fl.location_id = q.location_id
                  LEFT JOIN stock_lot lot ON lot.id = q.lot_id
                 GROUP BY fl.warehouse_id, q.product_id
            ),
            incoming AS (
                SELECT fl.warehouse_id, m.product_id, sum(m.product_qty) AS incoming
                  FROM stock_move m
                  JOIN facility_locations fl ON fl.location_id = m.location_dest_id
                 WHERE m.state IN ('confirmed', 'waiting', 'partially_available', 'assigned')
                   AND NOT EXISTS (SELECT 1 FROM facility_locations src
                                    WHERE src.location_id = m.location_id
                                      AND src.warehouse_id = fl.warehouse_id)
                 GROUP BY fl.warehouse_id, m.product_id
            ),
            consumption AS ({CONSUMPTION_30D}),
            minimums AS (
                SELECT op.warehouse_id, op.product_id, max(op.product_min_qty) AS minimum
                  FROM stock_warehouse_orderpoint op
                  JOIN stock_warehouse mw ON mw.id = op.warehouse_id
                 WHERE op.active AND mw.facility_code IS NOT NULL
                 GROUP BY op.warehouse_id, op.product_id
            ),
            pairs AS (
                SELECT warehouse_id, product_id FROM on_hand
                UNION ALL
                SELECT warehouse_id, product_id FROM minimums m
                 WHERE NOT EXISTS (SELECT 1 FROM on_hand o WHERE o.warehouse_id = m.warehouse_id
                                                             AND o.product_id = m.product_id)
                UNION ALL
                SELECT warehouse_id, product_id FROM incoming i
                 WHERE NOT EXISTS (SELECT 1 FROM on_hand o WHERE o.warehouse_id = i.warehouse_id
                                                             AND o.product_id = i.product_id)
                   AND NOT EXISTS (SELECT 1 FROM minimums m WHERE m.warehouse_id = i.warehouse_id
                                                              AND m.product_id = i.product_id)
            )
            SELECT p.product_id::bigint * 100000 + p.warehouse_id AS id,
                   p.warehouse_id, p.product_id, w.company_id, pt.categ_id,
                   COALESCE(pt.is_critical_supply, false) AS is_critical,
                   COALESCE(o.on_hand, 0) AS on_hand, COALESCE(o.reserved, 0) AS reserved,
                   COALESCE(i.incoming, 0) AS incoming, COALESCE(mi.minimum, 0) AS minimum,
                   COALESCE(c.avg_daily, 0) AS avg_daily_consumption,
                   CASE WHEN COALESCE(c.avg_daily, 0) > 0
                        THEN GREATEST(COALESCE(o.on_hand, 0), 0) / c.avg_daily
                   END AS days_of_cover,
                   CASE WHEN COALESCE(c.avg_daily, 0) > 0
                        THEN to_char(floor(GREATEST(COALESCE(o.on_hand, 0), 0) / c.avg_daily),
                                     'FM999999999990')
                        WHEN COALESCE(o.on_hand, 0) > 0 THEN '∞'
                   END AS days_of_cover_display,
                   COALESCE(o.on_hand, 0) * COALESCE(
                       (pp.standard_price ->> w.company_id::text)::numeric, 0) AS value,
                   o.nearest_expiry,
                   COALESCE(o.on_hand, 0) < COALESCE(mi.minimum, 0) AS is_shortage
              FROM pairs p
              JOIN stock_warehouse w ON w.id = p.warehouse_id
              JOIN product_product pp ON pp.id = p.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
              LEFT JOIN on_hand o ON o.warehouse_id = p.warehouse_id AND o.product_id = p.product_id
              LEFT JOIN incoming i ON i.warehouse_id = p.warehouse_id
                                  AND i.product_id = p.product_id
              LEFT JOIN consumption c ON c.warehouse_id = p.warehouse_id
                                     AND c.product_id = p.product_id
              LEFT JOIN minimums mi ON mi.warehouse_id = p.warehouse_id
                                   AND mi.product_id = p.product_id
        """

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        # the shown text sorts as the number it stands for ("9" before "10", "∞" last)
        if field_name == "days_of_cover_display":
            field_name = "days_of_cover"
        return super()._order_field_to_sql(alias, field_name, direction, nulls, query)

    def action_open_quants(self):
        """The lots and quants behind the row: its item in the facility's internal
        locations, each with its lot and expiry date (under the user's own rights)."""
        self.ensure_one()
        self.check_access("read")
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "healthcare_inventory_sync.stock_quant_healthcare_lots_action"
        )
        action["name"] = _(
            "%(product)s at %(facility)s",
            product=self.product_id.display_name,
            facility=self.warehouse_id.name,
        )
        action["domain"] = self._quants_domain()
        action["context"] = {"create": False}
        return action

    def _quants_domain(self):
        """The quants the row sums: the same internal locations of the facility."""
        self.ensure_one()
        return [
            ("product_id", "=", self.product_id.id),
            ("location_id", "child_of", self.warehouse_id.view_location_id.id),
            ("location_id.usage", "=", "internal"),
        ]


class HealthcareExpiryWatch(models.Model):
    """Lots expiring within their facility's horizon, with the value at risk and a
    facility that uses the item faster."""

    _name = "healthcare.expiry.watch"
    _description = "Expiry Watch"
    _auto = False
    _order = "expiration_date, warehouse_id"

    warehouse_id = fields.Many2one("stock.warehouse", "Facility", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    lot_id = fields.Many2one("stock.lot", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    expiration_date = fields.Datetime(readonly=True)
    days_left = fields.Integer(readonly=True)
    quantity = fields.Float(readonly=True, digits="Product Unit of Measure")
    value_at_risk = fields.Float(readonly=True, digits="Product Price")
    avg_daily_consumption = fields.Float("Avg Daily Use Here", readonly=True, digits=(16, 3))
    suggested_warehouse_id = fields.Many2one("stock.warehouse", "Suggested Facility", readonly=True)
    suggested_daily_consumption = fields.Float("Avg Daily Use There", readonly=True, digits=(16, 3))

    @property
    def _table_query(self):
        return f"""
            WITH facility_locations AS ({FACILITY_LOCATIONS}),
            consumption AS ({CONSUMPTION_30D}),
            expiring AS (
                SELECT fl.warehouse_id, w.company_id, q.product_id, q.lot_id,
                       lot.expiration_date, sum(q.quantity) AS quantity
                  FROM stock_quant q
                  JOIN facility_locations fl ON fl.location_id = q.location_id
                  JOIN stock_warehouse w ON w.id = fl.warehouse_id
                  JOIN stock_lot lot ON lot.id = q.lot_id
                 WHERE lot.expiration_date IS NOT NULL AND q.quantity > 0
                   AND lot.expiration_date <= (now() at time zone 'UTC')
                       + make_interval(days => COALESCE(w.expiry_horizon_days, 90))
                 GROUP BY fl.warehouse_id, w.company_id, q.product_id, q.lot_id,
                          lot.expiration_date
            )
            SELECT row_number() OVER (ORDER BY e.expiration_date, e.warehouse_id, e.lot_id) AS id,
                   e.warehouse_id, e.product_id, e.lot_id, e.company_id, e.expiration_date,
                   (e.expiration_date::date - (now() at time zone 'UTC')::date) AS days_left,
                   e.quantity,
                   e.quantity * COALESCE(
                       (pp.standard_price ->> e.company_id::text)::numeric, 0) AS value_at_risk,
                   COALESCE(here.avg_daily, 0) AS avg_daily_consumption,
                   best.warehouse_id AS suggested_warehouse_id,
                   best.avg_daily AS suggested_daily_consumption
              FROM expiring e
              JOIN product_product pp ON pp.id = e.product_id
              LEFT JOIN consumption here ON here.warehouse_id = e.warehouse_id
                                        AND here.product_id = e.product_id
              LEFT JOIN LATERAL (
                    SELECT c.warehouse_id, c.avg_daily FROM consumption c
                     WHERE c.product_id = e.product_id AND c.warehouse_id != e.warehouse_id
                       AND c.avg_daily > COALESCE(here.avg_daily, 0)
                     ORDER BY c.avg_daily DESC LIMIT 1) best ON true
        """
