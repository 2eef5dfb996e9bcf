"""Fault: a job that never ends, in Python (resilience.forever) and in SQL
(resilience.forever_sql), both with a time limit of 3 s and 2 attempts.

Must hold: the limit stops each attempt (the watchdog for Python, PostgreSQL's
statement_timeout for SQL) and counts it; the job is retried, then dead; the
lane is never blocked much longer than the limit: the good jobs behind them
run within seconds."""

import time

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

GOOD = 30
LIMIT = 3  # time_limit of both types, data/integration_message_type.xml of resilience_faults


def test_endless_jobs_are_stopped_retried_and_dead_lettered(fault_db, db_cursor):
    server = prefork_server(fault_db).start()
    try:
        conn = db_cursor(fault_db)
        partner = register_partner(server, "FOREVER-1")
        endless = {"forever_python": "resilience.forever", "forever_sql": "resilience.forever_sql"}
        started = time.monotonic()
        send(partner, [(kind, {}, ext) for ext, kind in endless.items()], threads=1)
        good = [f"forever_good_{n:03d}" for n in range(GOOD)]
        send(partner, [("resilience.work", {"n": n}, ext) for n, ext in enumerate(good)])

        # both endless jobs head the lane: the good ones wait for two limits at most
        _done, to_good = wait_until(
            lambda: count_done(conn, good) == GOOD, 2 * LIMIT + 15, what="good jobs done"
        )
        first = jobs_of(conn, endless)
        assert {row[2] for row in first.values()} >= {1}, first
        assert "JobTimeout" in first["forever_python"][3]
        assert "statement timeout" in first["forever_sql"][3]

        def both_dead():
            rows = jobs_of(conn, endless)
            return rows if all(row[1] == "dead" for row in rows.values()) else None

        # the retry waits for its backoff (5-10 s) and for a cron worker's poll (up to 70 s)
        rows, to_dead = wait_until(both_dead, 100, interval=0.5, what="both endless jobs dead")
        report(
            "job time limit",
            limit_s=LIMIT,
            seconds_all_good_done=round(to_good, 1),
            seconds_to_dead=round(time.monotonic() - started, 1),
            attempts={ext: row[2] for ext, row in rows.items()},
        )
        assert all(row[:3] == ("dead", "dead", 2) for row in rows.values()), rows
        assert_exactly_once(conn, good)
        assert all(lane_crons(conn).values())
        del to_dead
    finally:
        server.stop()
