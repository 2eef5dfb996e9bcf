"""integration_audit from the outside: headers on a live server, the CLI verifier and anchor."""

import importlib.util
import json
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


def _chain_module():
    """integration_audit's plain-python chain module, loaded without Odoo."""
    path = odoo_env.ADDONS / "integration_audit" / "chain.py"
    spec = importlib.util.spec_from_file_location("hcsc_audit_chain", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _audit_cli(db, command, *args):
    return subprocess.run(
        odoo_env.odoo_command(
            f"--addons-path={odoo_env.addons_path()}",
            command,
            f"--database={db}",
            *odoo_env.db_options(),
            *args,
        ),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _make_events(server, count=3):
    rpc = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/object")
    uid = xmlrpc.client.ServerProxy(server.url + "/xmlrpc/2/common").authenticate(
        server.dbname, "admin", "admin", {}
    )
    for index in range(count):
        rpc.execute_kw(
            server.dbname,
            uid,
            "admin",
            "integration.audit.legal.hold",
            "create",
            [{"name": f"anchor hold {index}", "reason": "e2e"}],
        )


def test_cli_anchor_finds_history_rewritten_and_rehashed(server, db_cursor, tmp_path):
    _make_events(server)
    anchored = _audit_cli(server.dbname, "audit-anchor")
    assert anchored.returncode == 0, anchored.stdout + anchored.stderr
    anchor = json.loads(anchored.stdout)
    assert anchor["sequence"] == anchor["count"] > 0
    assert len(anchor["chain_hash"]) == 64
    anchor_file = tmp_path / "anchor.json"
    anchor_file.write_text(anchored.stdout)
    ok = _audit_cli(server.dbname, "audit-verify", "--anchor", str(anchor_file))
    assert ok.returncode == 0, ok.stdout + ok.stderr

    # a DBA rewrites an anchored event and recomputes every seal after it
    chain = _chain_module()
    conn = db_cursor(server.dbname)
    with conn.cursor() as cr:
        cr.execute("SET session_replication_role = replica")
        cr.execute(
            "SELECT event_id FROM integration_audit_seal WHERE sequence = %s",
            [anchor["sequence"] - 1],
        )
        (victim,) = cr.fetchone()
        cr.execute(
            "UPDATE integration_audit_event SET summary = 'nothing happened' WHERE id = %s",
            [victim],
        )
        cr.execute(
            "SELECT s.sequence, s.event_timestamp, e.* FROM integration_audit_seal s"
            " JOIN integration_audit_event e ON e.id = s.event_id ORDER BY s.sequence"
        )
        columns = [column.name for column in cr.description]
        prev = chain.GENESIS
        for values in cr.fetchall():
            row = dict(zip(columns, values, strict=True))
            ev_hash = chain.event_hash(row)
            prev = chain.chain_hash(prev, ev_hash, row["event_timestamp"])
            cr.execute(
                "UPDATE integration_audit_seal SET event_hash = %s, chain_hash = %s"
                " WHERE sequence = %s",
                [ev_hash, prev, row["sequence"]],
            )
        cr.execute("SET session_replication_role = origin")

    fooled = _audit_cli(server.dbname, "audit-verify")
    assert fooled.returncode == 0, "a rehashed chain verifies on its own"
    broken = _audit_cli(server.dbname, "audit-verify", f"--anchor={json.dumps(anchor)}")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    report = json.loads(broken.stdout)
    assert report["error"]["sequence"] == anchor["sequence"]
    assert "differs from the anchor" in report["error"]["reason"]


def test_cli_verifier_refuses_a_forged_purge(server, db_cursor):
    _make_events(server)
    assert _audit_cli(server.dbname, "audit-anchor").returncode == 0  # seals
    chain = _chain_module()
    conn = db_cursor(server.dbname)
    with conn.cursor() as cr:
        cr.execute(
            "SELECT sequence, event_id FROM integration_audit_seal ORDER BY sequence DESC LIMIT 1"
        )
        sequence, victim = cr.fetchone()
        cr.execute("SELECT now() at time zone 'UTC' - interval '31 days'")
        (cutoff,) = cr.fetchone()
        details = {
            "cutoff": chain.normalise_timestamp(cutoff),
            "retention_days": 30,
            "count": 1,
            "purged_ranges": [[victim, victim]],
        }
        cr.execute("SET session_replication_role = replica")
        cr.execute(
            "INSERT INTO integration_audit_event (timestamp, event_type, summary, details)"
            " VALUES (now() at time zone 'UTC', 'retention_purge', 'Retention purge', %s)"
            " RETURNING id",
            [chain.canonical_json(details)],
        )
        (forged,) = cr.fetchone()
        # queued so that the verifier's own sealing run seals the forgery
        cr.execute("INSERT INTO integration_audit_pending (event_id) VALUES (%s)", [forged])
        cr.execute("DELETE FROM integration_audit_event WHERE id = %s", [victim])
        cr.execute("SET session_replication_role = origin")
    broken = _audit_cli(server.dbname, "audit-verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    report = json.loads(broken.stdout)
    assert report["error"]["event_id"] == victim
    assert report["error"]["sequence"] == sequence
    assert "newer than its cutoff" in report["error"]["reason"]
