import json

from odoo import SUPERUSER_ID, http
from odoo.http import request


class Bench(http.Controller):
    @http.route(
        "/bench/bare",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def bare(self, **_kw):
        body = request.httprequest.get_data(cache=True)
        request.env.cr.execute("INSERT INTO bench_row (body) VALUES (%s)", [body.decode()])
        return request.make_response(
            json.dumps({"status": "stored"}),
            headers=[("Content-Type", "application/json")],
            status=202,
        )

    @http.route(
        "/bench/enqueue/<string:kind>",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def enqueue(self, kind, n="1000", lane="bulk", **_kw):
        env = request.env(user=SUPERUSER_ID)
        count = int(n)
        if kind == "ours":
            Job = env["integration.job"]
            for _index in range(count):
                Job._enqueue("bench.row", "bench_noop", lane=lane, name="noop")
            for cron in env["ir.cron"].search([("code", "=", f"model._cron_run_lane('{lane}')")]):
                cron._trigger()
        else:
            rows = env["bench.row"]
            for _index in range(count):
                rows.with_delay().bench_noop()
        return request.make_response(
            json.dumps({"enqueued": count}), headers=[("Content-Type", "application/json")]
        )
