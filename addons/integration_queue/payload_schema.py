"""Validation of inbound payloads against a message type's JSON schema.

Errors name the field (as a path such as ``lines[2].quantity``) and the reason.
Plain Python on top of ``jsonschema``.
"""

import functools
import json

import jsonschema


class PayloadError(ValueError):
    """A payload that does not fit its schema (or is not JSON at all)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def parse_json(body):
    """Decode a request body as a JSON object, or raise :class:`PayloadError`."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    return data


@functools.lru_cache(maxsize=256)
def _validator(schema_text):
    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def field_path(path):
    """``['lines', 2, 'quantity']`` -> ``'lines[2].quantity'``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


def validate(schema_text, data):
    """Raise :class:`PayloadError` for the first (most relevant) schema violation."""
    if not schema_text:
        return
    errors = sorted(_validator(schema_text).iter_errors(data), key=lambda e: list(e.path))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    path = list(error.path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else None
        if missing:
            path.append(missing)
        raise PayloadError(f"{field_path(path)} is required", field=field_path(path))
    raise PayloadError(f"{field_path(path) or 'body'}: {error.message}", field=field_path(path))
