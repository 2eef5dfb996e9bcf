import random
import time

from odoo.tests import TransactionCase, tagged

from .. import backoff, payload_schema, signing


@tagged("post_install", "-at_install")
class TestSigning(TransactionCase):
    def test_sign_and_verify_roundtrip(self):
        secret = signing.generate_secret()
        headers = signing.sign_headers(secret, "msg_1", b'{"a":1}')
        signing.verify(
            [secret],
            "msg_1",
            headers["webhook-timestamp"],
            b'{"a":1}',
            headers["webhook-signature"],
        )

    def test_known_vector(self):
        # Standard Webhooks reference vector
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        sig = signing.signature(
            secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
        )
        self.assertEqual(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

    def test_any_of_several_signatures_and_secrets(self):
        old, new = signing.generate_secret(), signing.generate_secret()
        stamp = int(time.time())
        header = "v1,bogus " + signing.signature(old, "m", stamp, b"{}")
        signing.verify([new, old], "m", stamp, b"{}", header)

    def test_rejections(self):
        secret = signing.generate_secret()
        stamp = int(time.time())
        good = signing.signature(secret, "m", stamp, b"{}")
        cases = [
            ([secret], "m", stamp, b"{ }", good),  # body changed
            ([secret], "other", stamp, b"{}", good),  # id changed
            ([secret], "m", stamp - 301, b"{}", signing.signature(secret, "m", stamp - 301, b"{}")),
            ([signing.generate_secret()], "m", stamp, b"{}", good),  # wrong secret
            ([secret], "m", stamp, b"{}", "v2," + good[3:]),  # unknown version
            ([secret], "m", "yesterday", b"{}", good),
        ]
        for args in cases:
            with self.subTest(args=args[1:4]), self.assertRaises(signing.SignatureError):
                signing.verify(*args)

    def test_backoff_grows_with_jitter_and_cap(self):
        rng = random.Random(7)
        delays = [backoff.retry_delay(n, base=10, cap=300, rng=rng) for n in range(1, 8)]
        self.assertTrue(5 <= delays[0] <= 10)
        self.assertTrue(40 <= delays[3] <= 80)
        self.assertTrue(all(d <= 300 for d in delays))
        self.assertNotEqual(backoff.retry_delay(3, rng=rng), backoff.retry_delay(3, rng=rng))

    def test_schema_errors_name_the_field(self):
        schema = (
            '{"type": "object", "required": ["lines"], "properties": {"lines": {"type": "array",'
            ' "items": {"type": "object", "required": ["quantity"], "properties": {"quantity":'
            ' {"type": "number"}}}}}}'
        )
        with self.assertRaises(payload_schema.PayloadError) as missing:
            payload_schema.validate(schema, {})
        self.assertEqual(missing.exception.field, "lines")
        with self.assertRaises(payload_schema.PayloadError) as wrong:
            payload_schema.validate(schema, {"lines": [{"quantity": 1}, {"quantity": "x"}]})
        self.assertEqual(wrong.exception.field, "lines[1].quantity")
        self.assertIn("not of type", str(wrong.exception))
