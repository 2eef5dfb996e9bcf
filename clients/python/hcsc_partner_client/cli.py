"""``hcsc-partner``: send, status, ping and verify from a shell.

Configuration from flags or the environment: ``--url``/``HCSC_URL``,
``--partner``/``HCSC_PARTNER``, ``--secret``/``HCSC_SECRET``. Exit status 0 only
when everything asked for succeeded; 1 on any failure; 2 on bad usage.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from .client import (
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    PartnerClient,
    PartnerError,
    Result,
    verify_webhook,
)

FAILED_STATES = ("exception", "failed", "dead", "cancelled")


def _print(data):
    print(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))


def _client(args):
    missing = [
        name
        for name, value in (
            ("--url / HCSC_URL", args.url),
            ("--partner / HCSC_PARTNER", args.partner),
            ("--secret / HCSC_SECRET", args.secret),
        )
        if not value
    ]
    if missing:
        raise SystemExit(f"hcsc-partner: missing {', '.join(missing)}")
    return PartnerClient(
        args.url, args.partner, args.secret, timeout=args.timeout, retries=args.retries
    )


def _read_source(source):
    """(label, body bytes) of each message of ``source``: a file, a folder, NDJSON or -."""
    if source == "-":
        data = sys.stdin.buffer.read()
        return _split(data, "stdin")
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".ndjson", ".jsonl"))
        items = []
        for file in files:
            items += _split(file.read_bytes(), file.name, ndjson=file.suffix != ".json")
        return items
    if not path.exists():
        raise SystemExit(f"hcsc-partner: no such file or folder: {source}")
    return _split(path.read_bytes(), path.name, ndjson=path.suffix in (".ndjson", ".jsonl"))


def _split(data, label, ndjson=None):
    if ndjson is None:  # stdin: one JSON document, else one per line
        try:
            json.loads(data)
            ndjson = False
        except ValueError:
            ndjson = True
    if not ndjson:
        return [(label, data.strip())]
    return [
        (f"{label}:{number}", line.strip())
        for number, line in enumerate(data.splitlines(), start=1)
        if line.strip()
    ]


def cmd_send(args):
    client = _client(args)
    items = _read_source(args.source)
    if not items:
        raise SystemExit("hcsc-partner: nothing to send")
    if args.id and len(items) > 1:
        raise SystemExit("hcsc-partner: --id is for a single message")
    if len(items) == 1:
        label, body = items[0]
        result = _send_one(client, args.type, body, args.id)
        _print(
            {
                "source": label,
                "message_id": result.message_id,
                "http_status": result.status_code,
                "body": result.body,
            }
        )
        return 0 if result.accepted else 1
    counts = {"queued": 0, "duplicate": 0, "failed": 0}
    failures = []
    with tqdm(total=len(items), unit="msg", file=sys.stderr, disable=args.quiet) as bar:
        for label, body in items:
            result = _send_one(client, args.type, body, None)
            if result.status_code == 202:
                counts["queued"] += 1
            elif result.status_code == 200:
                counts["duplicate"] += 1
            else:
                counts["failed"] += 1
                failures.append(
                    {
                        "source": label,
                        "message_id": result.message_id,
                        "http_status": result.status_code,
                        "error": result.error or result.body,
                    }
                )
            bar.set_postfix(counts)
            bar.update()
    _print({"sent": len(items), **counts, "failures": failures})
    return 1 if failures else 0


def _send_one(client, message_type, body, message_id):
    try:
        return client.send(message_type, body, message_id=message_id)
    except PartnerError as error:
        return Result(message_id or "", 0, {"error": {"code": "client", "message": str(error)}})


def cmd_status(args):
    client = _client(args)
    try:
        if args.wait:
            result = client.wait(args.id, timeout=args.wait)
        else:
            result = client.status(args.id)
    except PartnerError as error:
        print(f"hcsc-partner: {error}", file=sys.stderr)
        return 1
    _print({"http_status": result.status_code, "body": result.body})
    if result.status_code != 200:
        return 1
    return 1 if result.body.get("status") in FAILED_STATES else 0


def cmd_ping(args):
    client = _client(args)
    try:
        result = client.ping(note=args.note, timeout=args.wait)
    except PartnerError as error:
        print(f"hcsc-partner: {error}", file=sys.stderr)
        return 1
    _print(
        {"message_id": result.message_id, "http_status": result.status_code, "body": result.body}
    )
    return 0 if result.status_code == 200 and result.body.get("status") == "done" else 1


def _read_headers(path):
    text = Path(path).read_text() if path != "-" else sys.stdin.read()
    try:
        headers = json.loads(text)
    except ValueError:
        headers = {}
        for line in text.splitlines():
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip()] = value.strip()
    if not isinstance(headers, dict):
        raise SystemExit("hcsc-partner: headers must be a JSON object or 'Name: value' lines")
    return {str(key): str(value) for key, value in headers.items()}


def cmd_verify(args):
    if not args.secret:
        raise SystemExit("hcsc-partner: missing --secret / HCSC_SECRET")
    if args.headers == "-" and args.body == "-":
        raise SystemExit("hcsc-partner: headers and body cannot both come from stdin")
    headers = _read_headers(args.headers)
    body = sys.stdin.buffer.read() if args.body == "-" else Path(args.body).read_bytes()
    try:
        payload = verify_webhook(args.secret, body, headers)
    except PartnerError as error:
        print(f"hcsc-partner: {error}", file=sys.stderr)
        return 1
    _print({"valid": True, "webhook_id": headers.get("webhook-id"), "payload": payload})
    return 0


def build_parser():
    """The argument parser (flags fall back to HCSC_URL, HCSC_PARTNER, HCSC_SECRET)."""
    parser = argparse.ArgumentParser(prog="hcsc-partner", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=os.environ.get("HCSC_URL"), help="gateway base URL")
    parser.add_argument("--partner", default=os.environ.get("HCSC_PARTNER"), help="partner code")
    parser.add_argument("--secret", default=os.environ.get("HCSC_SECRET"), help="whsec_ secret")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="per request (s)")
    parser.add_argument("--retries", type=int, default=DEFAULT_RETRIES, help="on 429/5xx/timeouts")
    commands = parser.add_subparsers(dest="command", required=True)

    send = commands.add_parser("send", help="send a message, a folder or an NDJSON file")
    send.add_argument("type", help="message type, e.g. inventory.consumption")
    send.add_argument("source", help="JSON file, NDJSON file (.ndjson/.jsonl), folder, or -")
    send.add_argument("--id", help="webhook-id of a single message (default: from its body)")
    send.add_argument("--quiet", action="store_true", help="no progress bar")
    send.set_defaults(func=cmd_send)

    status = commands.add_parser("status", help="what became of a message")
    status.add_argument("id", help="the message's webhook-id")
    status.add_argument("--wait", type=float, default=0, help="poll until final, up to N s")
    status.set_defaults(func=cmd_status)

    ping = commands.add_parser("ping", help="send integration.ping and wait for its result")
    ping.add_argument("--note", default="ping")
    ping.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the result")
    ping.set_defaults(func=cmd_ping)

    verify = commands.add_parser("verify", help="check the signature of an outbound delivery")
    verify.add_argument("--headers", required=True, help="JSON object or 'Name: value' lines")
    verify.add_argument("--body", required=True, help="the raw body file, or -")
    verify.set_defaults(func=cmd_verify)
    return parser


def main(argv=None):
    """Entry point of ``hcsc-partner``; returns the exit status."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
