"""Detached Ed25519 signatures for audit exports, and their offline check.

An export is a JSON-lines file, one event a line. Its signature is a small JSON
document kept beside it::

    {"algorithm": "Ed25519", "sha256": "<hex of the file>",
     "public_key": "<base64 raw public key>", "signature": "<base64>"}

The signature covers the file's SHA-256 digest (hex, ASCII). An auditor pins
the public key published by the administrator and runs :func:`verify_export`.
"""

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from . import chain

ALGORITHM = "Ed25519"


def generate_private_key_pem():
    """A new Ed25519 private key as unencrypted PKCS#8 PEM text."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def load_private_key(pem):
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the audit export signing key is not an Ed25519 key")
    return key


def public_key_b64(private_key):
    """Base64 of the raw 32-byte public key matching ``private_key``."""
    raw = private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(raw).decode("ascii")


def sign_export(data, private_key):
    """Return the detached signature document (a dict) for ``data`` (bytes)."""
    digest = chain.sha256_hex(data)
    return {
        "algorithm": ALGORITHM,
        "sha256": digest,
        "public_key": public_key_b64(private_key),
        "signature": base64.b64encode(private_key.sign(digest.encode("ascii"))).decode("ascii"),
    }


def verify_signature(data, signature_doc, public_key=None):
    """Check ``signature_doc`` against ``data``; return a list of problems.

    ``public_key`` (base64 raw key) is the key the auditor trusts; when omitted,
    the key named in the signature document is used, which only proves that the
    file was not changed since it was signed by whoever holds that key.
    """
    problems = []
    if signature_doc.get("algorithm") != ALGORITHM:
        return ["unsupported signature algorithm %r" % signature_doc.get("algorithm")]
    digest = chain.sha256_hex(data)
    if digest != signature_doc.get("sha256"):
        problems.append("file digest does not match the signed digest")
    key_b64 = public_key or signature_doc.get("public_key")
    if public_key and signature_doc.get("public_key") not in (None, public_key):
        problems.append("file was signed with another key than the trusted one")
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(key_b64))
        key.verify(base64.b64decode(signature_doc["signature"]), digest.encode("ascii"))
    except (InvalidSignature, ValueError, TypeError, KeyError):
        problems.append("signature is not valid for this file")
    return problems


def verify_export_lines(lines):
    """Recompute each exported event's hash and check links between neighbours.

    Return a list of problems (empty when every line verifies).
    """
    problems = []
    previous = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            problems.append("line %s: not valid JSON" % number)
            continue
        seal = record.get("seal") or {}
        if not seal:
            problems.append("line %s: event %s is not sealed" % (number, record.get("id")))
        elif chain.event_hash(record) != seal.get("event_hash") or (
            seal.get("event_timestamp") not in (None, record.get("timestamp"))
        ):
            problems.append("line %s: event %s was altered" % (number, record.get("id")))
        elif chain.chain_hash(
            seal.get("prev_chain_hash"), seal["event_hash"], seal.get("event_timestamp")
        ) != seal.get("chain_hash"):
            problems.append("line %s: chain hash of event %s is wrong" % (number, record.get("id")))
        elif (
            previous
            and seal.get("sequence") == previous.get("sequence", 0) + 1
            and seal.get("prev_chain_hash") != previous.get("chain_hash")
        ):
            problems.append("line %s: does not follow the line before it" % number)
        previous = seal
    return problems


def verify_export(data, signature_doc, public_key=None):
    """Verify a whole export (bytes) and its signature; return a list of problems."""
    problems = verify_signature(data, signature_doc, public_key=public_key)
    problems += verify_export_lines(data.decode("utf-8").splitlines())
    return problems
