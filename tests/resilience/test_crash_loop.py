"""Fault: a job that SIGKILLs its worker process on every attempt.

Must hold: its attempts are counted durably (committed before the job runs, not
rolled back with the crash); it is dead after max_attempts (3 for
resilience.crash); the lane keeps processing the other jobs meanwhile and its
cron is never deactivated."""

import time

import requests

from .common import (
    assert_exactly_once,
    count_done,
    jobs_of,
    lane_crons,
    prefork_server,
    register_partner,
    report,
    send,
    wait_until,
)

GOOD = 60


def test_job_killing_its_worker_is_dead_after_max_attempts(fault_db, db_cursor):
    server = prefork_server(fault_db).start()
    try:
        conn = db_cursor(fault_db)
        partner = register_partner(server, "CRASHLOOP-1")
        started = time.monotonic()
        # the crash job first: it heads every batch of the standard lane it is in
        send(partner, [("resilience.crash", {}, "crashloop_poison")], threads=1)
        good = [f"crashloop_good_{n:03d}" for n in range(GOOD)]
        send(partner, [("resilience.work", {"n": n}, ext) for n, ext in enumerate(good)])

        def poison_dead():
            row = jobs_of(conn, ["crashloop_poison"]).get("crashloop_poison")
            return row if row and row[1] == "dead" else None

        poison, _waited = wait_until(poison_dead, 100, what="the crash job dead")
        to_dead = time.monotonic() - started
        wait_until(lambda: count_done(conn, good) == GOOD, 60, what="every good job done")
        elapsed = time.monotonic() - started
        message_state, job_state, attempts, last_error = poison
        report(
            "crash loop",
            attempts=attempts,
            seconds_from_send_to_dead=round(to_dead, 1),
            good_done=GOOD,
            seconds_all_good_done=round(elapsed, 1),
        )
        assert (message_state, job_state, attempts) == ("dead", "dead", 3)
        assert "WorkerLost" in last_error
        assert_exactly_once(conn, good)
        assert all(lane_crons(conn).values()), lane_crons(conn)
        assert requests.get(server.url + "/integration/v1/health", timeout=10).ok
        # dead stays dead: nothing runs it again
        time.sleep(3)
        assert jobs_of(conn, ["crashloop_poison"])["crashloop_poison"][1:3] == ("dead", 3)
    finally:
        server.stop()
