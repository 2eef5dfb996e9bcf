"""Operations view of a wedged node: /integration/v1/health answers "up" while the
process answers; /integration/v1/health/ready answers 503 once a lane stops
heartbeating; /integration/v1/metrics shows jobs under way, near their time
limit and stuck, dead letters per type and the lanes' heartbeat."""

import re
import time
import xmlrpc.client

import requests

from .common import (
    METRICS_TOKEN,
    prefork_server,
    query,
    register_partner,
    report,
    send,
    wait_until,
)


def _metrics(server):
    response = requests.get(
        server.url + "/integration/v1/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.text


def _gauge(text, name, **labels):
    selector = ",".join(f'{key}="{value}"' for key, value in labels.items())
    found = re.search(rf"^{name}\{{{re.escape(selector)}\}} (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def _ready(server):
    return requests.get(server.url + "/integration/v1/health/ready", timeout=10)


def test_ready_up_and_metrics_of_a_wedged_lane(fault_db, db_cursor):
    server = prefork_server(fault_db).start()
    try:
        conn = db_cursor(fault_db)
        partner = register_partner(server, "HEALTH-1")
        # new cron workers poll at once: every lane heartbeats within seconds of the start
        response, to_ready = wait_until(
            lambda: (r := _ready(server)).status_code == 200 and r,
            30,
            interval=0.5,
            what="ready",
        )
        assert response.json()["status"] == "ready"

        # an endless job: under way, then near its limit (80 % of 3 s), then stopped
        send(partner, [("resilience.forever", {}, "health_forever")], threads=1)
        seen = {"running": 0, "near": 0, "stuck": 0}
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            text = _metrics(server)
            seen["running"] = max(
                seen["running"],
                _gauge(text, "integration_queue_jobs_running", lane="standard") or 0,
            )
            seen["near"] = max(
                seen["near"],
                _gauge(text, "integration_queue_jobs_near_time_limit", lane="standard") or 0,
            )
            seen["stuck"] = max(
                seen["stuck"], _gauge(text, "integration_queue_jobs_stuck", lane="standard") or 0
            )
            if seen["near"] and query(
                conn,
                "SELECT 1 FROM integration_job j JOIN integration_message m ON m.id = j.message_id"
                " WHERE m.external_id = 'health_forever' AND j.running_since IS NULL",
            ):
                break
            time.sleep(0.2)
        assert seen["running"] >= 1 and seen["near"] >= 1, seen
        assert _gauge(text, "integration_queue_lane_up", lane="standard") == 1
        assert _gauge(text, "integration_queue_lane_last_run_timestamp_seconds", lane="standard")

        # a wedged lane: its cron switched off, a job held by a runner that is gone
        common = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common")
        uid = common.authenticate(fault_db, "admin", "admin", {})
        rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)
        cron_id = rpc.execute_kw(
            fault_db,
            uid,
            "admin",
            "ir.model.data",
            "check_object_reference",
            ["integration_queue", "ir_cron_lane_standard"],
        )[1]
        rpc.execute_kw(fault_db, uid, "admin", "ir.cron", "write", [[cron_id], {"active": False}])
        send(partner, [("resilience.work", {"n": 1}, "health_stranded")], threads=1)
        query(
            conn,
            "UPDATE integration_job SET lease_pid = 2147483647, time_limit = 60,"
            " running_since = now() at time zone 'UTC'"
            " WHERE message_id = (SELECT id FROM integration_message"
            " WHERE external_id = 'health_stranded') RETURNING id",
        )
        not_ready = _ready(server)
        up = requests.get(server.url + "/integration/v1/health", timeout=10)
        text = _metrics(server)
        report(
            "health and metrics",
            seconds_to_ready_after_start=round(to_ready, 1),
            max_running=seen["running"],
            max_near_limit=seen["near"],
            ready_when_wedged=not_ready.status_code,
            up_when_wedged=up.status_code,
        )
        assert up.status_code == 200
        assert not_ready.status_code == 503
        assert not_ready.headers["Retry-After"]
        assert "lane standard: cron inactive" in not_ready.json()["reasons"]
        assert _gauge(text, "integration_queue_lane_up", lane="standard") == 0
        assert _gauge(text, "integration_queue_jobs_stuck", lane="standard") >= 1
    finally:
        server.stop()
