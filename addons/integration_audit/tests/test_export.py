import base64
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from odoo.tests import tagged
from odoo.tools import config

from .. import export_signing
from .common import AuditCase


@tagged("post_install", "-at_install")
class TestExport(AuditCase):
    @classmethod
    def _setup_records(cls):
        cls.cid = "export-" + cls.__name__
        for index in range(3):
            cls.Event._log(
                "inbound_received",
                f"message {index}",
                correlation_id=cls.cid,
                details={"n": index},
                payload=b"{}",
            )

    def export(self, **vals):
        wizard = self.env["integration.audit.export"].create(vals or {"correlation_id": self.cid})
        wizard.action_export()
        return (
            base64.b64decode(wizard.export_file),
            base64.b64decode(wizard.signature_file),
            wizard,
        )

    def test_export_by_correlation_id_verifies(self):
        data, signature, wizard = self.export()
        self.assertEqual(wizard.event_count, 3)
        lines = [json.loads(line) for line in data.decode().splitlines()]
        self.assertEqual({line["correlation_id"] for line in lines}, {self.cid})
        self.assertTrue(all(line["seal"]["chain_hash"] for line in lines))
        problems = export_signing.verify_export(data, json.loads(signature), wizard.public_key)
        self.assertEqual(problems, [])

    def test_tampered_export_is_detected(self):
        data, signature, wizard = self.export()
        tampered = data.replace(b"message 1", b"message 9")
        problems = export_signing.verify_export(tampered, json.loads(signature), wizard.public_key)
        self.assertIn("file digest does not match the signed digest", problems)
        self.assertTrue(any("altered" in problem for problem in problems))

    def test_signature_by_another_key_is_rejected(self):
        data, signature, _wizard = self.export()
        other = export_signing.load_private_key(export_signing.generate_private_key_pem())
        problems = export_signing.verify_export(
            data, json.loads(signature), export_signing.public_key_b64(other)
        )
        self.assertIn("file was signed with another key than the trusted one", problems)

    def test_resigned_tampered_export_fails_line_checks(self):
        data, _signature, wizard = self.export()
        tampered = data.replace(b"message 0", b"message X")
        key = self.env["integration.audit.export"]._signing_key()
        forged = export_signing.sign_export(tampered, key)
        problems = export_signing.verify_export(tampered, forged, wizard.public_key)
        self.assertTrue(any("altered" in problem for problem in problems))

    def test_date_range_export(self):
        first = self.Event.search([("correlation_id", "=", self.cid)], order="id", limit=1)
        _data, _sig, wizard = self.export(date_from=first.timestamp, date_to=first.timestamp)
        self.assertGreaterEqual(wizard.event_count, 3)

    def test_command_line_verifier(self):
        data, signature, wizard = self.export()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "audit.jsonl"
            path.write_bytes(data)
            Path(tmp, "audit.jsonl.sig").write_bytes(signature)
            command = [
                sys.executable,
                "-m",
                "odoo",
                f"--addons-path={config['addons_path']}",
                "audit-verify-export",
                str(path),
                "--public-key",
                wizard.public_key,
            ]
            ok = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
            self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
            self.assertIn("OK:", ok.stdout)
            path.write_bytes(data.replace(b"message 2", b"message 7"))
            bad = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
            self.assertEqual(bad.returncode, 1, bad.stdout + bad.stderr)
            self.assertIn("BROKEN", bad.stdout)
