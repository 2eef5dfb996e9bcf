"""integration_queue from the outside: 1,000 signed messages through a server that is
killed with SIGKILL mid-run, and through two servers running the crons at once.
Afterwards every accepted message was processed exactly once: one message, one
job done, one job_done audit event each."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.harness.server import OdooServer

from .queue_client import Partner

MESSAGES = 1000
SECRET_KEY_CONFIG = {"integration_queue_secret_key": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="}


def _wait_all_done(db_cursor, db, expected, timeout=300):
    conn = db_cursor(db)
    deadline = time.monotonic() + timeout
    done = -1
    while time.monotonic() < deadline:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM integration_message WHERE direction = 'inbound'"
                " AND message_type = 'integration.ping' AND state = 'done'"
            )
            done = cr.fetchone()[0]
        if done >= expected:
            return conn
        time.sleep(1)
    raise AssertionError(f"only {done} of {expected} messages done after {timeout}s")


def _assert_exactly_once(conn, ids):
    with conn.cursor() as cr:
        cr.execute(
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
            [list(ids)],
        )
        rows = cr.fetchall()
    assert len(rows) == len(ids), f"{len(ids) - len(rows)} accepted messages are missing"
    wrong = [row for row in rows if row[1:] != (1, 1, 1)]
    assert not wrong, f"not exactly once: {wrong[:10]}"


def _send_all(partner, ids, on_progress=None, servers=1):
    deadline = time.monotonic() + 600
    sent = []
    lock = threading.Lock()

    def send(index):
        status = partner.post_until_accepted(
            "integration.ping", {"note": str(index)}, ids[index], deadline, url_index=index
        )
        with lock:
            sent.append(status)
            if on_progress:
                on_progress(len(sent))
        return status

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(len(ids))))
    return sent


def test_sigkill_mid_run_loses_and_duplicates_nothing(fresh_db, db_cursor):
    server = OdooServer(fresh_db, max_cron_threads=1, config=SECRET_KEY_CONFIG)
    server.start()
    try:
        partner = Partner.register(server, "CRASH-1")
        ids = [f"crash_{n:05d}" for n in range(MESSAGES)]
        killed = threading.Event()

        def crash_once(count):
            if count >= MESSAGES // 3 and not killed.is_set():
                killed.set()
                threading.Thread(target=_kill_and_restart, args=(server,), daemon=True).start()

        statuses = _send_all(partner, ids, on_progress=crash_once)
        assert killed.is_set()
        assert len(statuses) == MESSAGES
        conn = _wait_all_done(db_cursor, fresh_db, MESSAGES)
        _assert_exactly_once(conn, ids)
    finally:
        server.stop()


def _kill_and_restart(server):
    server.kill()
    time.sleep(1)
    server.start()


def test_two_servers_running_crons_process_each_message_once(fresh_db, db_cursor):
    first = OdooServer(fresh_db, max_cron_threads=2, config=SECRET_KEY_CONFIG).start()
    second = OdooServer(fresh_db, max_cron_threads=2, config=SECRET_KEY_CONFIG).start()
    try:
        partner = Partner.register(first, "TWIN-1")
        partner.urls = [first.url, second.url]
        ids = [f"twin_{n:05d}" for n in range(MESSAGES)]
        killed = threading.Event()

        def crash_second(count):
            if count >= MESSAGES // 2 and not killed.is_set():
                killed.set()
                threading.Thread(target=_kill_and_restart, args=(second,), daemon=True).start()

        _send_all(partner, ids, on_progress=crash_second)
        conn = _wait_all_done(db_cursor, fresh_db, MESSAGES)
        _assert_exactly_once(conn, ids)
        assert requests.get(first.url + "/integration/v1/health", timeout=10).ok
        assert requests.get(second.url + "/integration/v1/health", timeout=10).ok
    finally:
        first.stop()
        second.stop()
