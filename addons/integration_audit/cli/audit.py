# pylint: disable=print-used
"""Command-line checks for auditors and operators.

``odoo --addons-path=... audit-verify -c odoo.conf -d DB``
    verifies the database's audit hash chain; exit 0 when intact, 1 when broken.

``odoo --addons-path=... audit-verify-export FILE.jsonl [--signature FILE.sig] [--public-key B64]``
    verifies an exported file and its detached signature offline; exit 0 or 1.
"""

import argparse
import json
import sys
from pathlib import Path

import odoo
from odoo.cli import Command

from .. import export_signing


class AuditVerify(Command):
    """Verify the audit hash chain of a database"""

    name = "audit-verify"

    def run(self, cmdargs):
        odoo.tools.config.parse_config(cmdargs, setup_logging=True)
        dbname = odoo.tools.config["db_name"]
        if not dbname or "," in dbname:
            sys.exit("audit-verify needs exactly one database: pass -d DBNAME")
        registry = odoo.modules.registry.Registry(dbname)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            events = env["integration.audit.event"]
            events._seal_pending()
            report = events._verify_chain()
        print(json.dumps(report, indent=2, default=str))
        sys.exit(0 if report["ok"] else 1)


class AuditVerifyExport(Command):
    """Verify an exported audit file and its Ed25519 signature"""

    name = "audit-verify-export"

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(prog="odoo audit-verify-export")
        parser.add_argument("file", type=Path, help="the exported .jsonl file")
        parser.add_argument(
            "--signature", type=Path, help="the detached signature (default: FILE.sig)"
        )
        parser.add_argument(
            "--public-key", help="base64 Ed25519 public key you trust (recommended)"
        )
        args = parser.parse_args(cmdargs)
        sig_path = args.signature or args.file.with_name(args.file.name + ".sig")
        problems = export_signing.verify_export(
            args.file.read_bytes(), json.loads(sig_path.read_text()), args.public_key
        )
        if problems:
            for problem in problems:
                print("BROKEN: " + problem)
            sys.exit(1)
        if not args.public_key:
            print("note: no --public-key given; checked against the key in the signature file")
        print("OK: %s and its signature verify" % args.file)
        sys.exit(0)
