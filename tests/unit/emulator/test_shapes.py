"""Request bodies against the JSON types their contract is deserialized into."""

from __future__ import annotations

import pytest

from azure_emulator.shapes import Mismatch, mismatch, with_literals_read

SHAPE = {
    "name": str,
    "count": int,
    "ratio": float,
    "on": bool,
    "opaque": dict,
    "items": list,
    "nested": {"disks": [{"lun": int}], "tags": {str: str}},
}


def test_a_body_of_the_right_types_fits():
    body = {
        "name": "a",
        "count": 1,
        "ratio": 2,
        "on": False,
        "opaque": {"x": [1]},
        "items": [1, "a"],
        "nested": {"disks": [{"lun": 0}, {"lun": 1}], "tags": {"k": "v"}},
        "unknown": [{}],
    }
    assert mismatch(body, SHAPE) is None


def test_null_is_an_omitted_member_anywhere_but_in_an_array():
    assert mismatch({"name": None, "nested": {"disks": None, "tags": None}}, SHAPE) is None
    assert mismatch({"nested": {"disks": [None]}}, SHAPE) == Mismatch("nested.disks[0]", "object", None)


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"name": 1}, Mismatch("name", "string", 1)),
        ({"count": True}, Mismatch("count", "integer", True)),
        ({"count": 1.5}, Mismatch("count", "integer", 1.5)),
        ({"ratio": "1"}, Mismatch("ratio", "number", "1")),
        ({"on": 0}, Mismatch("on", "boolean", 0)),
        ({"opaque": []}, Mismatch("opaque", "object", [])),
        ({"items": {}}, Mismatch("items", "array", {})),
        ({"nested": {"disks": [{"lun": 0}, {"lun": "1"}]}}, Mismatch("nested.disks[1].lun", "integer", "1")),
        ({"nested": {"tags": {"k": 5}}}, Mismatch("nested.tags.k", "string", 5)),
        ({"nested": "x"}, Mismatch("nested", "object", "x")),
    ],
)
def test_the_first_mismatch_is_named_by_its_path(body, found):
    assert mismatch(body, SHAPE) == found


def test_a_whole_body_of_another_type():
    assert mismatch([], SHAPE) == Mismatch("", "object", [])


@pytest.mark.parametrize(
    ("value", "shape", "read"),
    [
        ({"n": "2"}, {"n": int}, {"n": 2}),
        ({"n": " -3 "}, {"n": int}, {"n": -3}),
        ({"x": "2.5"}, {"x": float}, {"x": 2.5}),
        ({"b": "True"}, {"b": bool}, {"b": True}),
        ({"l": ["1", "2"]}, {"l": [int]}, {"l": [1, 2]}),
        ({"m": {"a": "1"}}, {"m": {str: int}}, {"m": {"a": 1}}),
        # Not a literal of the type, or not where the shape wants a number: left for mismatch to name.
        ({"n": "two"}, {"n": int}, {"n": "two"}),
        ({"n": "2.5"}, {"n": int}, {"n": "2.5"}),
        ({"s": "2"}, {"s": str}, {"s": "2"}),
        ({"o": "1"}, {"o": {"a": int}}, {"o": "1"}),
        ({"other": "1"}, {"n": int}, {"other": "1"}),
    ],
)
def test_literals_are_read_as_the_deserializers_read_them(value, shape, read):
    assert with_literals_read(value, shape) == read
