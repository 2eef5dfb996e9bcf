"""Encryption of partner secrets at rest (Fernet: AES-128-CBC + HMAC-SHA256).

The key comes from the Odoo configuration file option
``integration_queue_secret_key`` (a Fernet key: 32 url-safe base64 bytes).
Without it, nothing is stored. Plain Python.
"""

from cryptography.fernet import Fernet, InvalidToken

CONFIG_OPTION = "integration_queue_secret_key"


class MissingKeyError(RuntimeError):
    """No encryption key is configured."""


def generate_key():
    """A new key for ``integration_queue_secret_key``."""
    return Fernet.generate_key().decode("ascii")


def _fernet(key):
    if not key:
        raise MissingKeyError(
            f"no encryption key: set {CONFIG_OPTION} in the Odoo configuration file "
            '(generate one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())")'
        )
    try:
        return Fernet(key.encode("ascii") if isinstance(key, str) else key)
    except (ValueError, TypeError) as error:
        raise MissingKeyError(
            f"{CONFIG_OPTION} is not a valid Fernet key (32 url-safe base64 bytes)"
        ) from error


def encrypt(key, plaintext):
    return _fernet(key).encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(key, token):
    try:
        return _fernet(key).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise MissingKeyError(
            f"a stored secret cannot be decrypted with the configured {CONFIG_OPTION}"
        ) from error
