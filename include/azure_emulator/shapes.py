"""Request bodies checked against the JSON types of the contract they are deserialized into.

ARM resource providers and Batch deserialize a body into typed contracts before any rule runs, so
a value of the wrong JSON type is refused with the service's deserialization error naming its
path, whatever the operation. Each model declares the shape of the body it reads; the handler
checks it (``arm.common.request_body``, ``batch.handlers.common.body``) and the model can rely on
the types.

A shape is ``str``, ``int``, ``float`` (any number), ``bool``, ``dict`` (any object), ``list``
(any array), ``{member: shape}`` (an object whose listed members have these shapes; others are not
looked at), ``{str: shape}`` (an object whose every member has the shape) or ``[shape]`` (an array
whose items have the shape). ``null`` stands for an omitted member anywhere: whether a property
is required is the model's rule. An array item cannot be null.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

KINDS = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object", list: "array"}


@dataclass(frozen=True)
class Mismatch:
    """Where a body departs from its shape: the property path, the JSON kind expected there, the value found."""

    path: str
    expected: str
    value: Any


def kind_of(value: Any) -> str:
    """The JSON kind of a parsed value: a kind of :data:`KINDS`, or ``"null"``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "integer" if isinstance(value, int) else "number"
    return KINDS[type(value)]


def _expected(shape: Any) -> str:
    return "object" if isinstance(shape, dict) else "array" if isinstance(shape, list) else KINDS[shape]


def _fits(value: Any, expected: str) -> bool:
    found = kind_of(value)
    return found == expected or (expected == "number" and found == "integer")


def _member(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def mismatch(value: Any, shape: Any, path: str = "") -> Mismatch | None:
    """The first place where ``value`` does not have ``shape``, or None."""
    if value is None:
        return None
    expected = _expected(shape)
    if not _fits(value, expected):
        return Mismatch(path, expected, value)
    if isinstance(shape, dict):
        members = value.items() if str in shape else ((name, value.get(name)) for name in shape)
        for name, item in members:
            found = mismatch(item, shape[str] if str in shape else shape[name], _member(path, name))
            if found:
                return found
    elif isinstance(shape, list):
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            found = Mismatch(where, _expected(shape[0]), None) if item is None else mismatch(item, shape[0], where)
            if found:
                return found
    return None


_LITERALS = {
    int: re.compile(r"^[+-]?\d+$"),
    float: re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"),
    bool: re.compile(r"^(true|false)$", re.IGNORECASE),
}


def with_literals_read(value: Any, shape: Any) -> Any:
    """``value`` with the strings that spell a number or a boolean where ``shape`` wants one read as such: both
    services' deserializers (JSON.NET for ARM, ODataLib for Batch) convert ``"2"`` to an integer property, and
    refuse only a string that is no such literal.
    """
    if (
        isinstance(value, str)
        and isinstance(shape, type)
        and shape in _LITERALS
        and _LITERALS[shape].match(value.strip())
    ):
        text = value.strip()
        return text.lower() == "true" if shape is bool else shape(text)
    if isinstance(value, dict) and isinstance(shape, dict):
        if str in shape:
            return {k: with_literals_read(v, shape[str]) for k, v in value.items()}
        return {k: with_literals_read(v, shape[k]) if k in shape else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(shape, list):
        return [with_literals_read(v, shape[0]) for v in value]
    return value
