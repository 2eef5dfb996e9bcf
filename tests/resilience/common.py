"""What the resilience scenarios share: a prefork server with the fault addon,
a partner sending signed messages, and queries on the queue's tables."""

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.e2e.queue_client import Partner
from tests.harness.server import OdooServer

FAULT_ADDONS = Path(__file__).resolve().parent / "addons"
FAULT_TYPES = (
    "resilience.work",
    "resilience.crash",
    "resilience.forever",
    "resilience.forever_sql",
)
METRICS_TOKEN = "resilience-metrics-token"
CONFIG = {
    "integration_queue_secret_key": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
    "integration_queue_metrics_token": METRICS_TOKEN,
}


def prefork_server(dbname, workers=2, max_cron_threads=2):
    """A real Odoo prefork server (HTTP and cron workers) with the fault addon."""
    return OdooServer(
        dbname,
        workers=workers,
        max_cron_threads=max_cron_threads,
        config=CONFIG,
        extra_addons=[FAULT_ADDONS],
    )


def register_partner(server, code):
    return Partner.register(server, code, message_types=FAULT_TYPES)


def send(partner, items, threads=4, deadline_s=120):
    """Post ``(message_type, payload, msg_id)`` items until each is accepted."""
    deadline = time.monotonic() + deadline_s
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(
            pool.map(lambda item: partner.post_until_accepted(*item, deadline=deadline), items)
        )


def wait_until(predicate, timeout, interval=0.1, what="condition"):
    """Poll ``predicate`` until it returns a truthy value; return (value, seconds waited)."""
    started = time.monotonic()
    while True:
        value = predicate()
        if value:
            return value, time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} not reached within {timeout}s")
        time.sleep(interval)


def query(conn, sql, params=()):
    with conn.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall()


def jobs_of(conn, external_ids):
    """{external_id: (message state, job state, attempts, last_error)} of inbound messages."""
    rows = query(
        conn,
        """
        SELECT m.external_id, m.state, j.state, j.attempts, j.last_error
          FROM integration_message m JOIN integration_job j ON j.message_id = m.id
         WHERE m.external_id = ANY(%s)
        """,
        [list(external_ids)],
    )
    return {row[0]: row[1:] for row in rows}


def count_done(conn, external_ids):
    return query(
        conn,
        "SELECT count(*) FROM integration_message WHERE external_id = ANY(%s) AND state = 'done'",
        [list(external_ids)],
    )[0][0]


def assert_exactly_once(conn, external_ids):
    """One message, one done job and one job_done audit event per accepted id."""
    rows = query(
        conn,
        """
        SELECT m.external_id, count(DISTINCT m.id),
               count(DISTINCT j.id) FILTER (WHERE j.state = 'done'),
               (SELECT count(*) FROM integration_audit_event e
                 WHERE e.res_model = 'integration.message' AND e.res_id = m.id
                   AND e.event_type = 'job_done')
          FROM integration_message m
          LEFT JOIN integration_job j ON j.message_id = m.id
         WHERE m.external_id = ANY(%s)
         GROUP BY m.external_id, m.id
        """,
        [list(external_ids)],
    )
    assert len(rows) == len(external_ids), f"{len(external_ids) - len(rows)} messages missing"
    wrong = [row for row in rows if row[1:] != (1, 1, 1)]
    assert not wrong, f"not exactly once: {wrong[:10]}"


def lane_crons(conn):
    """{cron name: active} of the lane crons."""
    rows = query(
        conn,
        """
        SELECT d.name, c.active FROM ir_cron c
          JOIN ir_model_data d ON d.model = 'ir.cron' AND d.res_id = c.id
         WHERE d.module = 'integration_queue' AND d.name LIKE 'ir_cron_lane_%%'
        """,
    )
    return dict(rows)


def kill_odoo_process_of_backend(conn, backend_pid):
    """SIGKILL the Odoo process whose database session is ``backend_pid`` (Odoo names
    its sessions odoo-<pid>); return that process id."""
    rows = query(
        conn, "SELECT application_name FROM pg_stat_activity WHERE pid = %s", [backend_pid]
    )
    assert rows and rows[0][0].startswith("odoo-"), f"no Odoo session {backend_pid}: {rows}"
    pid = int(rows[0][0].removeprefix("odoo-"))
    os.kill(pid, signal.SIGKILL)
    return pid


def report(title, **figures):
    """Print a scenario's figures (pytest -s shows them; RESULTS.md records them)."""
    print(
        f"\n[{title}] " + ", ".join(f"{key}={value}" for key, value in figures.items()), flush=True
    )
