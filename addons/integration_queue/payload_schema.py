"""Validation of inbound payloads against a message type's JSON schema.

Errors name the field (as a path such as ``lines[2].quantity``) and the reason.
Bodies are strict JSON: UTF-8, no ``NaN``/``Infinity``, no duplicate keys, no
numbers beyond :data:`MAX_NUMBER_DIGITS` digits, nesting at most
:data:`MAX_DEPTH` deep. Schema ``format``s are enforced and fail closed: a
schema naming a format no installed checker knows is refused.
Plain Python on top of ``jsonschema`` (with its ``format-nongpl`` extras).
"""

import functools
import json
import math
import re

import jsonschema

MAX_DEPTH = 32
MAX_NUMBER_DIGITS = 40
TOO_MANY_DIGITS = f"body is not valid JSON: a number has more than {MAX_NUMBER_DIGITS} digits"
# A string runs to its closing quote or, unterminated, to the end of the body: the
# pattern cannot fail once it has started, so it never rescans (a body of escaped
# quotes made the former pattern quadratic: hours of CPU for one 1 MiB request).
_STRINGS = re.compile(r'"(?:[^"\\]+|\\.)*(?:"|\\?\Z)', re.S)
_BRACKETS = re.compile(r"[\[\]{}]")


class PayloadError(ValueError):
    """A payload that does not fit its schema (or is not JSON at all)."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


class SchemaUnavailable(PayloadError):
    """A schema that cannot be enforced as written (e.g. a format nobody checks)."""


def _no_constant(name):
    raise PayloadError(f"body is not valid JSON: {name} is not a number JSON allows")


def _parse_int(text):
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise PayloadError(
            f"body is not valid JSON: a number has more than {MAX_NUMBER_DIGITS} digits"
        )
    return int(text)


def _parse_float(text):
    if len(text) > MAX_NUMBER_DIGITS + 10:
        raise PayloadError(
            f"body is not valid JSON: a number has more than {MAX_NUMBER_DIGITS} digits"
        )
    value = float(text)
    if not math.isfinite(value):
        raise PayloadError(f"body is not valid JSON: {text[:20]} is out of range")
    return value


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise PayloadError(
                f"body is not valid JSON: duplicate key {key[:64]!r}", field=key[:64]
            )
        seen[key] = value
    return seen


def _check_depth(body_text):
    """Refuse nesting deeper than MAX_DEPTH before the parser recurses into it."""
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", body_text)):
        depth += 1 if bracket in "[{" else -1
        if depth > MAX_DEPTH:
            raise PayloadError(f"body is not valid JSON: nested deeper than {MAX_DEPTH} levels")


def parse_json(body):
    """Decode a request body as a strict JSON object, or raise :class:`PayloadError`."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:
        raise PayloadError(f"body is not UTF-8: {error.reason} at byte {error.start}") from None
    if text.count("[") + text.count("{") > MAX_DEPTH:
        _check_depth(text)
    try:
        data = json.loads(
            text,
            parse_constant=_no_constant,
            parse_int=_parse_int,
            parse_float=_parse_float,
            object_pairs_hook=_unique_keys,
        )
    except PayloadError:
        raise
    except (ValueError, RecursionError) as error:
        raise PayloadError(f"body is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    if "\\u" in text:
        # only a \u escape can put NUL or a lone surrogate into a decoded string
        _check_storable_strings(data)
    return data


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _check_storable_strings(data):
    """Refuse NUL and unpaired surrogates: text PostgreSQL cannot store nor UTF-8 encode."""
    stack = [(data, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            items = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, value in items:
            if isinstance(key, str) and _UNSTORABLE.search(key):
                raise PayloadError(
                    "body is not valid JSON: a key holds NUL or an unpaired surrogate",
                    field=field_path(path) or None,
                )
            if isinstance(value, str):
                if _UNSTORABLE.search(value):
                    raise PayloadError(
                        "text holds NUL or an unpaired surrogate, which cannot be stored",
                        field=field_path([*path, key]),
                    )
            elif isinstance(value, (dict, list)):
                stack.append((value, [*path, key]))


def _formats(schema):
    """Every ``format`` a schema names, wherever it is nested."""
    found = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@functools.lru_cache(maxsize=256)
def _validator(schema_text):
    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = cls.FORMAT_CHECKER
    unchecked = sorted(_formats(schema) - set(checker.checkers))
    if unchecked:
        # fail closed: a format nobody checks would let anything through
        raise SchemaUnavailable(
            f"no checker for format(s) {', '.join(unchecked)}: install jsonschema[format-nongpl]"
        )
    return cls(schema, format_checker=checker)


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
    try:
        validator = _validator(schema_text)
    except SchemaUnavailable:
        raise
    except Exception as error:
        raise SchemaUnavailable(f"the schema of this message type is not usable: {error}") from None
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
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
