"""integration_queue against baselines measured in the same run, on the same server.

1. Intake: signed, validated, stored, queued and audited messages per second,
   against a bare Odoo route that only inserts one row per request, in
   alternating rounds with the lane crons running as in production
   (target: median of the rounds' ratios at least 0.85).
2. No-op job throughput against OCA queue_job 18.0.1.2.0 with the same number of
   workers (2 cron workers for our bulk lane, queue_job channel root:2)
   (target: at least 5 times faster).
3. Latency from intake of a critical message to its job done, at idle, p50 and
   p95 (target: p95 under one second).
"""

import os
import statistics
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.e2e.queue_client import Partner, sign
from tests.harness import odoo_env
from tests.harness.server import OdooServer

from .common import BENCH_ADDONS, bench_database, record

WORKERS = 2
PARTS = os.environ.get("BENCH_QUEUE_PARTS", "latency,throughput,intake").split(",")
INTAKE_ROUNDS = int(os.environ.get("BENCH_QUEUE_INTAKE_ROUNDS", "5"))
INTAKE_REQUESTS = int(os.environ.get("BENCH_QUEUE_INTAKE", "3000"))
CLIENT_THREADS = 8
JOBS = int(os.environ.get("BENCH_QUEUE_JOBS", "3000"))
LATENCY_SAMPLES = int(os.environ.get("BENCH_QUEUE_LATENCY_SAMPLES", "60"))
CONFIG = {
    "integration_queue_secret_key": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
    "server_wide_modules": "base,web,queue_job",
    "limit_time_cpu": 600,
    "limit_time_real": 1200,
}


def _rpc(server):
    uid = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common").authenticate(
        server.dbname, "admin", "admin", {}
    )
    proxy = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object", allow_none=True)

    def call(model, method, *args, **kwargs):
        return proxy.execute_kw(server.dbname, uid, "admin", model, method, list(args), kwargs)

    return call


def _rate(func, count):
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        statuses = list(pool.map(func, range(count)))
    elapsed = time.perf_counter() - started
    bad = [s for s in statuses if s not in (200, 202)]
    assert not bad, f"{len(bad)} requests failed, e.g. {bad[:3]}"
    return count / elapsed


def _backlog(dbname):
    """Jobs not yet done: intake rounds start with an empty queue."""
    conn = odoo_env.pg_connect(dbname)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM integration_job "
                " WHERE state NOT IN ('done', 'exception', 'dead', 'cancelled')"
            )
            return cr.fetchone()[0]
    finally:
        conn.close()


def _drain(dbname, timeout=300):
    deadline = time.monotonic() + timeout
    while _backlog(dbname):
        if time.monotonic() > deadline:
            raise AssertionError("the lanes did not drain the intake backlog")
        time.sleep(0.2)


def bench_intake(server):
    """Alternating rounds, bare route then gateway, with the lane crons running.

    The crons process the accepted pings while intake goes on, as in production;
    each bare round starts once they have drained the previous gateway round, so
    neither side pays for the other's work.
    """
    partner = Partner.register(server, "BENCH-INTAKE")
    session = requests.Session()
    body = b'{"note": "intake benchmark"}'

    def bare(index):
        return session.post(
            server.url + "/bench/bare",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        ).status_code

    url = server.url + "/integration/v1/inbound/integration.ping"

    def signed_requests():
        # signing is the partner's work: done before the clock starts
        out = []
        for index in range(INTAKE_REQUESTS):
            msg_id = f"intake_{index}_{time.monotonic_ns()}"
            headers = sign(partner.secret, msg_id, body)
            headers.update({"X-Partner-Code": partner.code, "Content-Type": "application/json"})
            out.append(headers)
        return out

    rounds = []
    for _round in range(INTAKE_ROUNDS):
        _drain(server.dbname)
        bare_rate = _rate(bare, INTAKE_REQUESTS)
        prepared = signed_requests()

        def ours(index, prepared=prepared):
            return session.post(url, data=body, headers=prepared[index], timeout=30).status_code

        ours_rate = _rate(ours, INTAKE_REQUESTS)
        rounds.append(
            {
                "bare": round(bare_rate, 1),
                "ours": round(ours_rate, 1),
                "ratio": round(ours_rate / bare_rate, 3),
            }
        )
        print("intake round", rounds[-1], flush=True)
    _drain(server.dbname)
    return {
        "requests_per_round": INTAKE_REQUESTS,
        "client_threads": CLIENT_THREADS,
        "lane_crons": "running",
        "rounds": rounds,
        "bare_route_per_second_median": statistics.median(r["bare"] for r in rounds),
        "gateway_per_second_median": statistics.median(r["ours"] for r in rounds),
        "gateway_over_bare_median": statistics.median(r["ratio"] for r in rounds),
        "target": ">= 0.85 (median of rounds)",
    }


def _wait(query_count, expected, timeout=900):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query_count() >= expected:
            return time.perf_counter()
        time.sleep(0.05)
    raise AssertionError(f"not done within {timeout}s")


def bench_throughput(server, dbname):
    conn = odoo_env.pg_connect(dbname)
    conn.autocommit = True

    def count(sql):
        def run():
            with conn.cursor() as cr:
                cr.execute(sql)
                return cr.fetchone()[0]

        return run

    ours_done = count("SELECT count(*) FROM integration_job WHERE name = 'noop' AND state = 'done'")
    qj_done = count(
        "SELECT count(*) FROM queue_job WHERE method_name = 'bench_noop' AND state = 'done'"
    )
    results = {}
    for kind, done in (("ours", ours_done), ("queue_job", qj_done)):
        before = done()
        response = requests.post(f"{server.url}/bench/enqueue/{kind}?n={JOBS}", timeout=600)
        response.raise_for_status()
        started = time.perf_counter()
        finished = _wait(done, before + JOBS)
        results[kind] = JOBS / (finished - started)
    conn.close()
    return {
        "jobs": JOBS,
        "workers_each": WORKERS,
        "ours_jobs_per_second": round(results["ours"], 1),
        "queue_job_jobs_per_second": round(results["queue_job"], 1),
        "ours_over_queue_job": round(results["ours"] / results["queue_job"], 2),
        "target": ">= 5",
    }


def bench_latency(server):
    partner = Partner.register(server, "BENCH-LATENCY")
    session = requests.Session()
    samples = []
    for index in range(LATENCY_SAMPLES):
        msg_id = f"latency_{index}_{time.monotonic_ns()}"
        started = time.perf_counter()
        response = partner.post("integration.ping", {"note": "latency"}, msg_id=msg_id)
        assert response.status_code == 202, response.text
        while True:
            headers = sign(partner.secret, msg_id, b"")
            headers["X-Partner-Code"] = partner.code
            state = session.get(
                f"{server.url}/integration/v1/messages/{msg_id}", headers=headers, timeout=10
            ).json()["status"]
            if state == "done":
                samples.append(time.perf_counter() - started)
                break
            if time.perf_counter() - started > 30:
                raise AssertionError(f"{msg_id} still {state} after 30s")
            time.sleep(0.01)
        time.sleep(0.3)  # idle between messages
    samples.sort()
    return {
        "samples": len(samples),
        "p50_seconds": round(statistics.median(samples), 3),
        "p95_seconds": round(samples[int(len(samples) * 0.95) - 1], 3),
        "max_seconds": round(samples[-1], 3),
        "target": "p95 < 1.0",
    }


def main():
    os.environ["ODOO_QUEUE_JOB_CHANNELS"] = f"root:{WORKERS}"
    with bench_database(
        ["integration_queue", "queue_job", "bench_baseline"], "queue", extra_addons=[BENCH_ADDONS]
    ) as db:
        server = OdooServer(
            db,
            workers=WORKERS,
            max_cron_threads=WORKERS,
            config=CONFIG,
            extra_addons=[BENCH_ADDONS],
        )
        server.start()
        try:
            call = _rpc(server)
            # a second cron on the bulk lane: two workers for our queue too
            bulk = call("ir.cron", "search", [("code", "=", "model._cron_run_lane('bulk')")])
            call("ir.cron", "copy", bulk[0], {"name": "Integration Queue: bulk lane (2)"})
            # latency first, while the server is idle; intake last, as it leaves a backlog
            figures = {}
            if "latency" in PARTS:
                figures["latency"] = bench_latency(server)
                print("latency:", figures["latency"], flush=True)
            if "throughput" in PARTS:
                figures["throughput"] = bench_throughput(server, db)
                print("throughput:", figures["throughput"], flush=True)
            if "intake" in PARTS:
                figures["intake"] = bench_intake(server)
                print("intake:", figures["intake"], flush=True)
        finally:
            server.stop()
    if set(PARTS) == {"latency", "throughput", "intake"}:
        record("queue", figures)
