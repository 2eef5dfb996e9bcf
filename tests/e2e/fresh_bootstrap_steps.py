"""The steps of a new user's first run, for ``test_fresh_bootstrap.py``.

Run inside a network namespace whose only interface is the loopback, in a copy
of the repository, by a Python that does not count (it only drives):

    python -m tests.e2e.fresh_bootstrap_steps <odoo source> <wheelhouse>

1. ``bootstrap install``: ``.venv`` with Odoo 18.0 from the source, pip offline
   from the wheelhouse only;
2. the embedded PostgreSQL (PG* point at a port where nothing listens);
3. ``odoo -i integration_queue`` with the venv's ``odoo``;
4. that server, a partner registered over XML-RPC with a rotated secret, a
   signed ``integration.ping`` answered 202 and then ``done``.

Prints one JSON line ``RESULT {...}`` with the duration of each step.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.e2e.queue_client import Partner, sign
from tests.harness import embedded_pg

REPO = Path(__file__).resolve().parents[2]


class _Server:
    def __init__(self, url, dbname):
        self.url = url
        self.dbname = dbname


def _clean_pip_env(env):
    """No machine pip configuration: the wheelhouse alone must do."""
    env = {key: value for key, value in env.items() if not key.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", HCSC_OFFLINE="1")
    return env


def _timed(timings, name, function):
    start = time.monotonic()
    result = function()
    timings[name] = round(time.monotonic() - start, 1)
    print(f"--- {name}: {timings[name]}s", flush=True)
    return result


def _wait_health(url, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Odoo exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/web/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("Odoo did not answer /web/health")


def main(source, wheelhouse):
    """Run every step; return the result dict printed as RESULT."""
    timings = {}
    env = _clean_pip_env(dict(os.environ))
    env.update(ODOO_SOURCE=source, HCSC_WHEELHOUSE=wheelhouse)
    # Nothing listens here: the harness must start its own server.
    env.update(PGHOST="127.0.0.1", PGPORT="1", PGUSER="nobody-here")
    _timed(
        timings,
        "bootstrap",
        lambda: subprocess.run(
            [
                env.get("HCSC_BOOTSTRAP_PYTHON", sys.executable),
                "-m",
                "tests.harness.bootstrap",
                "install",
                "--force",
            ],
            cwd=REPO,
            env=env,
            check=True,
        ),
    )
    python = str(REPO / ".venv" / "bin" / "python")
    odoo = str(REPO / ".venv" / "bin" / "odoo")

    def start_postgres():
        out = subprocess.run(
            [python, "-m", "tests.harness.embedded_pg", "start"],
            cwd=REPO,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        print(out.stderr, flush=True)
        for line in out.stdout.splitlines():
            key, _sep, value = line.removeprefix("export ").partition("=")
            env[key] = value

    _timed(timings, "postgres", start_postgres)
    dbname = "h6_fresh"
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    config = REPO / ".local" / "fresh.conf"
    config.write_text(f"[options]\nintegration_queue_secret_key = {key}\n")
    addons_path = subprocess.run(
        [python, "-c", "from tests.harness import odoo_env; print(odoo_env.addons_path())"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    common = [
        python,
        odoo,
        f"--config={config}",
        f"--addons-path={addons_path}",
        f"--database={dbname}",
        f"--db-filter=^{dbname}$",
        f"--db_host={env['PGHOST']}",
        f"--db_port={env['PGPORT']}",
        f"--db_user={env['PGUSER']}",
        "--log-level=warn",
    ]
    _timed(
        timings,
        "install_integration_queue",
        lambda: subprocess.run(
            [*common, "-i", "integration_queue", "--stop-after-init", "--max-cron-threads=0"],
            cwd=REPO,
            env=env,
            check=True,
        ),
    )
    port = embedded_pg._free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*common, "--http-interface=127.0.0.1", f"--http-port={port}", "--max-cron-threads=1"],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    result = {"timings": timings, "postgres_port": env["PGPORT"]}
    try:
        _timed(timings, "server_start", lambda: _wait_health(url, server))
        partner = _timed(
            timings, "register_partner", lambda: Partner.register(_Server(url, dbname), "FRESH")
        )
        msg_id = "msg_fresh_bootstrap_1"
        response = partner.post("integration.ping", {"note": "fresh"}, msg_id=msg_id)
        result["ping_status"] = response.status_code
        result["ping_body"] = response.json()
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline:
            headers = sign(partner.secret, msg_id, b"")
            headers["X-Partner-Code"] = partner.code
            answer = partner.session.get(
                f"{url}/integration/v1/messages/{msg_id}", headers=headers, timeout=10
            )
            result["status_answer"] = answer.json()
            state = answer.json().get("status")
            if state in ("done", "failed", "dead", "exception"):
                break
            time.sleep(1)
        result["final_state"] = state
        timings["ping_until_done"] = round(time.monotonic() - deadline + 90, 1)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        subprocess.run(
            [python, "-m", "tests.harness.embedded_pg", "stop"], cwd=REPO, env=env, check=False
        )
    return result


if __name__ == "__main__":
    outcome = main(sys.argv[1], sys.argv[2])
    print("RESULT " + json.dumps(outcome), flush=True)
