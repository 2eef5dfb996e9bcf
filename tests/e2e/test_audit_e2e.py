"""integration_audit from the outside: headers on a live server, the CLI verifier."""

import subprocess
import xmlrpc.client

import requests

from tests.harness import odoo_env


def test_correlation_id_is_echoed_or_made(server):
    given = requests.get(
        server.url + "/web/login", headers={"X-Correlation-ID": "e2e-corr-1"}, timeout=10
    )
    assert given.headers["X-Correlation-ID"] == "e2e-corr-1"
    traced = requests.get(
        server.url + "/web/login",
        headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        timeout=10,
    )
    assert traced.headers["X-Correlation-ID"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    made = requests.get(server.url + "/web/login", timeout=10)
    assert len(made.headers["X-Correlation-ID"]) == 32


def _verify(db):
    return subprocess.run(
        odoo_env.odoo_command(
            f"--addons-path={odoo_env.addons_path()}",
            "audit-verify",
            f"--database={db}",
            *odoo_env.db_options(),
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_verifier_passes_then_finds_sql_tampering(server, db_cursor):
    fresh_db = server.dbname
    rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object")
    uid = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common").authenticate(
        fresh_db, "admin", "admin", {}
    )
    for index in range(3):
        rpc.execute_kw(
            fresh_db,
            uid,
            "admin",
            "integration.audit.legal.hold",
            "create",
            [{"name": f"hold {index}", "reason": "e2e"}],
        )
    ok = _verify(fresh_db)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert '"ok": true' in ok.stdout
    conn = db_cursor(fresh_db)
    with conn.cursor() as cr:
        cr.execute("SELECT event_id FROM integration_audit_seal ORDER BY sequence LIMIT 1")
        (victim,) = cr.fetchone()
        cr.execute("SET session_replication_role = replica")
        cr.execute(
            "UPDATE integration_audit_event SET summary = 'rewritten' WHERE id = %s", [victim]
        )
        cr.execute("SET session_replication_role = origin")
    broken = _verify(fresh_db)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f'"event_id": {victim}' in broken.stdout
