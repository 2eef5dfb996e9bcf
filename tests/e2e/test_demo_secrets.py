"""``make run`` writes the demo partners' secrets to a git-ignored file, and they work.

The same function ``make run`` calls rotates the secrets on a copy of the demo
database; a server on that copy then accepts a ping signed with a secret of the file.
"""

import json
import stat
import subprocess
import sys
import time
import uuid

from cryptography.fernet import Fernet

from tests.e2e.queue_client import Partner
from tests.harness import demo_secrets, odoo_env
from tests.harness.server import OdooServer


def test_make_run_secrets_file_is_git_ignored():
    path = demo_secrets.DEFAULT_OUTPUT.relative_to(odoo_env.REPO)
    done = subprocess.run(
        ["git", "check-ignore", "--quiet", "--no-index", str(path)],
        cwd=odoo_env.REPO,
        check=False,
    )
    assert done.returncode == 0, f"{path} is not ignored by .gitignore"


def test_secrets_file_signs_a_ping_the_server_accepts(fresh_db, tmp_path):
    key = Fernet.generate_key().decode()
    config = tmp_path / "odoo.conf"
    config.write_text(f"[options]\nintegration_queue_secret_key = {key}\n")
    output = tmp_path / "demo-partner-secrets.json"
    server = OdooServer(fresh_db, max_cron_threads=1, config={"integration_queue_secret_key": key})

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.harness.demo_secrets",
            f"--config={config}",
            f"--database={fresh_db}",
            f"--url={server.url}",
            f"--output={output}",
        ],
        cwd=odoo_env.REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    content = json.loads(output.read_text())
    assert content["base_url"] == server.url
    partners = content["partners"]
    for code in ("DEMO-EHR", "DEMO-HOSP-N", "DEMO-CONTRACT-PLATFORM", "DEMO-NORDIC-PORTAL"):
        assert partners.get(code, "").startswith("whsec_"), code

    with server:
        partner = Partner([content["base_url"]], "DEMO-EHR", partners["DEMO-EHR"])
        webhook_id = "msg_" + uuid.uuid4().hex
        answer = partner.post("integration.ping", {"note": "from the file"}, msg_id=webhook_id)
        assert answer.status_code == 202, answer.text
        conn = odoo_env.pg_connect(fresh_db)
        try:
            deadline = time.monotonic() + 120
            state = None
            while time.monotonic() < deadline:
                with conn.cursor() as cr:
                    cr.execute(
                        "SELECT state FROM integration_message WHERE external_id = %s",
                        [webhook_id],
                    )
                    state = cr.fetchone()[0]
                conn.rollback()
                if state == "done":
                    break
                time.sleep(0.5)
            assert state == "done", state
        finally:
            conn.close()
        # a secret that is not in the file is refused
        forged = Partner([content["base_url"]], "DEMO-EHR", partners["DEMO-HOSP-N"])
        assert forged.post("integration.ping", {"note": "forged"}).status_code == 401


def test_secrets_file_is_the_owners_only_whatever_lies_in_the_folder(tmp_path):
    """A left-over world-readable file or a planted symlink next to it changes nothing."""
    target = tmp_path / "demo-partner-secrets.json"
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("untouched")
    (tmp_path / "demo-partner-secrets.json.tmp").symlink_to(elsewhere)
    target.write_text("{}")
    target.chmod(0o644)
    demo_secrets.write_secrets_file(target, "http://127.0.0.1:8069", "db", {"DEMO": "whsec_x"})
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(target.read_text())["partners"] == {"DEMO": "whsec_x"}
    assert elsewhere.read_text() == "untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "demo-partner-secrets.json",
        "demo-partner-secrets.json.tmp",
        "elsewhere.txt",
    ]
