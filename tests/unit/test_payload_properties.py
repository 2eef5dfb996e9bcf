"""Property-based tests of integration_queue/payload_schema.py (plain Python, no Odoo)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .plain_modules import load

payload_schema = load("integration_queue", "payload_schema")

# text PostgreSQL can store: no NUL, no lone surrogate
storable = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.text(storable, max_size=30)
    | (st.floats(allow_nan=False, allow_infinity=False))
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(storable, max_size=10), children, max_size=4)
    ),
    max_leaves=30,
)
objects = st.dictionaries(st.text(storable, max_size=10), values, max_size=6)


@settings(max_examples=150)
@given(data=objects)
def test_strict_json_objects_round_trip(data):
    assert payload_schema.parse_json(json.dumps(data).encode()) == data


@settings(max_examples=200)
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_any_bytes_parse_or_raise_payload_error(body):
    try:
        result = payload_schema.parse_json(body)
    except payload_schema.PayloadError:
        return
    assert isinstance(result, dict)


@given(depth=st.integers(min_value=payload_schema.MAX_DEPTH + 1, max_value=5000))
def test_deep_nesting_is_refused_not_recursed(depth):
    with pytest.raises(payload_schema.PayloadError):
        payload_schema.parse_json(('{"a":' + "[" * depth + "]" * depth + "}").encode())


@given(key=st.text(max_size=10), first=scalars, second=scalars)
def test_duplicate_keys_are_refused(key, first, second):
    body = "{%s: %s, %s: %s}" % (
        json.dumps(key),
        json.dumps(first),
        json.dumps(key),
        json.dumps(second),
    )
    with pytest.raises(payload_schema.PayloadError):
        payload_schema.parse_json(body.encode())


@given(constant=st.sampled_from(["NaN", "Infinity", "-Infinity"]))
def test_non_json_numbers_are_refused(constant):
    with pytest.raises(payload_schema.PayloadError):
        payload_schema.parse_json(f'{{"q": {constant}}}'.encode())


SCHEMA = json.dumps(
    {
        "type": "object",
        "required": ["sku", "lines"],
        "properties": {
            "sku": {"type": "string", "maxLength": 20},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["quantity"],
                    "properties": {"quantity": {"type": "number", "minimum": 0}},
                },
            },
        },
    }
)


@settings(max_examples=150)
@given(
    data=objects
    | st.fixed_dictionaries(
        {
            "sku": st.text(max_size=25),
            "lines": st.lists(
                st.fixed_dictionaries({"quantity": st.integers(-5, 5) | st.text(max_size=3)}),
                max_size=4,
            ),
        }
    )
)
def test_validation_accepts_or_names_a_field(data):
    try:
        payload_schema.validate(SCHEMA, data)
    except payload_schema.SchemaUnavailable:
        raise
    except payload_schema.PayloadError as error:
        assert str(error)
        if error.field is not None:
            assert error.field.split("[")[0].split(".")[0] in ("sku", "lines", "") or data


@settings(max_examples=100)
@given(
    prefix=st.text(storable, max_size=10),
    bad=st.sampled_from(["\x00", "\ud800", "\udcbd", "\udfff"]),
    nested=st.booleans(),
)
def test_nul_and_lone_surrogates_are_refused_naming_the_field(prefix, bad, nested):
    value = prefix + bad
    data = {"lines": [{"item": value}]} if nested else {"item": value}
    body = json.dumps(data).encode()
    with pytest.raises(payload_schema.PayloadError) as caught:
        payload_schema.parse_json(body)
    assert caught.value.field == ("lines[0].item" if nested else "item")
