# pylint: disable=print-used
"""Command-line checks for auditors and operators.

``odoo --addons-path=... audit-verify -c odoo.conf -d DB [--anchor FILE|JSON]``
    verifies the database's audit hash chain; exit 0 when intact, 1 when broken.
    With ``--anchor`` (the output of ``audit-anchor``, as a file or inline JSON),
    the chain must also still pass through that head: events up to it were not
    rewritten and the chain was not cut back.

``odoo --addons-path=... audit-anchor -c odoo.conf -d DB``
    seals pending events and prints the chain head as JSON (sequence = count of
    links, event id, chain hash, time, retention days), to be kept outside the
    database (a write-once store, a ticket, an e-mail to the auditors).

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


def _split_anchor(cmdargs):
    """(the --anchor value or None, the other arguments for Odoo's option parser)."""
    anchor, rest = None, []
    args = iter(cmdargs)
    for arg in args:
        if arg == "--anchor":
            anchor = next(args, None)
            if anchor is None:
                sys.exit("--anchor needs a file or a JSON object")
        elif arg.startswith("--anchor="):
            anchor = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return anchor, rest


def load_anchor(value):
    """The anchor dict from inline JSON or a file; exit with a sentence if unusable."""
    text = value.strip()
    if not text.startswith("{"):
        try:
            text = Path(value).read_text(encoding="utf-8")
        except OSError as error:
            sys.exit("--anchor: cannot read %s (%s)" % (value, error.strerror))
    try:
        anchor = json.loads(text)
    except ValueError:
        sys.exit("--anchor: not a JSON object")
    if (
        not isinstance(anchor, dict)
        or not isinstance(anchor.get("sequence"), int)
        or anchor["sequence"] < 0
        or not isinstance(anchor.get("chain_hash"), str)
    ):
        sys.exit("--anchor: needs at least an integer 'sequence' and a 'chain_hash'")
    return anchor


def _db_env(cr):
    return odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})


def _single_database(command):
    dbname = odoo.tools.config["db_name"]
    if not dbname or "," in dbname:
        sys.exit("%s needs exactly one database: pass -d DBNAME" % command)
    return dbname


class AuditVerify(Command):
    """Verify the audit hash chain of a database"""

    name = "audit-verify"

    def run(self, cmdargs):
        anchor_arg, cmdargs = _split_anchor(cmdargs)
        odoo.tools.config.parse_config(cmdargs, setup_logging=True)
        anchor = load_anchor(anchor_arg) if anchor_arg else None
        registry = odoo.modules.registry.Registry(_single_database("audit-verify"))
        with registry.cursor() as cr:
            events = _db_env(cr)["integration.audit.event"]
            events._seal_pending()
            report = events._verify_chain(anchor=anchor)
        if anchor:
            report["anchor"] = anchor
        print(json.dumps(report, indent=2, default=str))
        sys.exit(0 if report["ok"] else 1)


class AuditAnchor(Command):
    """Print the sealed audit chain's head, to keep outside the database"""

    name = "audit-anchor"

    def run(self, cmdargs):
        odoo.tools.config.parse_config(cmdargs, setup_logging=True)
        registry = odoo.modules.registry.Registry(_single_database("audit-anchor"))
        with registry.cursor() as cr:
            head = _db_env(cr)["integration.audit.event"]._chain_anchor()
        print(json.dumps(head, indent=2, default=str))
        sys.exit(0)


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
