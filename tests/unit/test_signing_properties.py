"""Property-based tests of integration_queue/signing.py (plain Python, no Odoo)."""

import base64
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from .plain_modules import load

signing = load("integration_queue", "signing")

keys = st.binary(min_size=16, max_size=64)
secrets_ = keys.map(lambda key: signing.PREFIX + base64.b64encode(key).decode())
ids = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="."),
    min_size=1,
    max_size=80,
)
bodies = st.text(max_size=500).map(str.encode)
NOW = 1_800_000_000
stamps = st.integers(min_value=NOW - 300, max_value=NOW + 300)


@settings(max_examples=100)
@given(secret=secrets_, msg_id=ids, stamp=stamps, body=bodies)
def test_what_we_sign_verifies(secret, msg_id, stamp, body):
    headers = signing.sign_headers(secret, msg_id, body, timestamp=stamp)
    signing.verify(
        [secret], msg_id, headers["webhook-timestamp"], body, headers["webhook-signature"], now=NOW
    )


@settings(max_examples=100)
@given(secret=secrets_, msg_id=ids, stamp=stamps, body=bodies)
def test_same_signature_as_the_standardwebhooks_library(secret, msg_id, stamp, body):
    ours = signing.signature(secret, msg_id, stamp, body)
    theirs = Webhook(secret).sign(
        msg_id, datetime.fromtimestamp(stamp, tz=timezone.utc), body.decode()
    )
    assert ours == theirs


@settings(max_examples=100)
@given(
    secret=secrets_,
    other=secrets_,
    msg_id=ids,
    stamp=stamps,
    body=bodies,
    flip=st.integers(min_value=0, max_value=10_000),
)
def test_any_change_is_refused(secret, other, msg_id, stamp, body, flip):
    header = signing.signature(secret, msg_id, stamp, body)
    changed = bytearray(body + b"x")
    changed[flip % len(changed)] ^= 0x01
    attempts = [
        ([secret], msg_id, stamp, bytes(changed)),
        ([secret], msg_id + "x", stamp, body),
        ([secret], msg_id, stamp + 1, body),
    ]
    if other != secret:
        attempts.append(([other], msg_id, stamp, body))
    for candidate_secrets, candidate_id, candidate_stamp, candidate_body in attempts:
        with pytest.raises(signing.SignatureError):
            signing.verify(
                candidate_secrets,
                candidate_id,
                str(candidate_stamp),
                candidate_body,
                header,
                now=NOW,
            )


@settings(max_examples=100)
@given(
    secrets_list=st.lists(secrets_, min_size=1, max_size=4, unique=True),
    index=st.integers(min_value=0, max_value=3),
    msg_id=ids,
    body=bodies,
)
def test_any_current_secret_of_a_rotation_verifies(secrets_list, index, msg_id, body):
    secret = secrets_list[index % len(secrets_list)]
    header = signing.signature(secret, msg_id, NOW, body)
    noise = "v1," + base64.b64encode(b"\0" * 32).decode()
    signing.verify(secrets_list, msg_id, str(NOW), body, f"{noise} {header}", now=NOW)


@settings(max_examples=150)
@given(
    stamp=st.one_of(st.text(max_size=20), st.integers().map(str)),
    header=st.text(max_size=200),
    body=bodies,
    secret=secrets_,
)
def test_garbage_headers_only_raise_signature_error(stamp, header, body, secret):
    try:
        signing.verify([secret], "msg", stamp, body, header, now=NOW)
    except signing.SignatureError:
        pass


@given(stamp=st.integers(min_value=-(10**12), max_value=10**12), body=bodies, secret=secrets_)
def test_timestamps_outside_five_minutes_are_refused(stamp, body, secret):
    header = signing.signature(secret, "msg", stamp, body)
    if abs(stamp - NOW) <= signing.TOLERANCE_SECONDS:
        signing.verify([secret], "msg", str(stamp), body, header, now=NOW)
    else:
        with pytest.raises(signing.SignatureError):
            signing.verify([secret], "msg", str(stamp), body, header, now=NOW)
