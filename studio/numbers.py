"""Numbers from requests: ids in paths, query strings, form fields, JSON values.

Every number a request carries is read here and bounded before any
arithmetic. ``str.isdigit()`` passes characters ``int()`` refuses ("²");
``Decimal("1e999999")`` is finite on paper yet turns ``duration * fps`` into a
million-digit integer; a database key column holds far fewer digits than a
Python int. Text is read as plain ASCII digits of bounded length, so the cost
of parsing is bounded too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

# The largest key any supported database hands out: a signed 64-bit integer.
MAX_ID = 2**63 - 1
ID_DIGITS = len(str(MAX_ID))
# The largest value of a PositiveIntegerField on every supported database.
MAX_COUNTER = 2**31 - 1

_ID = re.compile(rf"[0-9]{{1,{ID_DIGITS}}}")
_WHOLE = re.compile(rf"[+-]?[0-9]{{1,{ID_DIGITS}}}")
# No exponent: "1e999999" is what a creator never types and a server never
# wants to expand.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})")


class NumberError(ValueError):
    """A number the studio can't take; ``str()`` is a sentence for the creator."""


def parse_id(value: Any) -> int | None:
    """A database id written in ASCII digits, or None: as unknown as a missing row."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def parse_whole(
    value: str | None,
    *,
    label: str,
    low: int,
    high: int,
    default: int | None = None,
) -> int:
    """A whole number from a query string or form field, within ``low..high``.

    Left out or empty reads as ``default`` when one is given.
    """
    text = (value or "").strip()
    if not text and default is not None:
        return default
    if not _WHOLE.fullmatch(text):
        raise NumberError(f"{label} must be a whole number from {low} to {high}.")
    return check_whole(int(text), label=label, low=low, high=high)


def parse_decimal(
    value: str | None,
    *,
    label: str,
    low: float,
    high: float,
    default: float | None = None,
) -> float:
    """A plain decimal number (``2``, ``2.5``, ``.5``) within ``low..high``."""
    text = (value or "").strip()
    if not text and default is not None:
        return default
    if not _DECIMAL.fullmatch(text):
        raise NumberError(
            f"{label} must be a number from {low:g} to {high:g}, written like 2.5."
        )
    return check_number(float(text), label=label, low=low, high=high)


def query_whole(
    params: Mapping[str, Any],
    name: str,
    *,
    label: str,
    low: int,
    high: int,
    default: int,
) -> int:
    """A whole number from an API query string: left out is ``default``,
    present but empty is an error like any other unreadable value."""
    if params.get(name) == "":
        raise NumberError(f"{label} is empty: leave it out or give a number.")
    return parse_whole(
        params.get(name), label=label, low=low, high=high, default=default
    )


def page_and_size(
    params: Mapping[str, Any], *, size: int, max_size: int
) -> tuple[int, int, dict[str, list[str]]]:
    """``page`` and ``page_size`` from a query string, and messages for bad ones."""
    values = {"page": 1, "page_size": size}
    errors: dict[str, list[str]] = {}
    for name, label, high in (
        ("page", "Page", MAX_ID),
        ("page_size", "Page size", max_size),
    ):
        try:
            values[name] = query_whole(
                params, name, label=label, low=1, high=high, default=values[name]
            )
        except NumberError as exc:
            errors[name] = [str(exc)]
    return values["page"], values["page_size"], errors


def check_whole(value: Any, *, label: str, low: int, high: int) -> int:
    """A JSON value that must be a whole number within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise NumberError(f"{label} must be a whole number.")
    if not low <= value <= high:
        shown = value if abs(value) < 10**ID_DIGITS else "far outside that"
        raise NumberError(f"{label} must be from {low} to {high}; got {shown}.")
    return value


def check_number(value: Any, *, label: str, low: float, high: float) -> float:
    """A JSON value that must be a finite number within ``low..high``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NumberError(f"{label} must be a number.")
    if isinstance(value, int) and abs(value) >= 10**ID_DIGITS:
        raise NumberError(f"{label} must be from {low:g} to {high:g}.")
    if not math.isfinite(value) or not low <= value <= high:
        raise NumberError(f"{label} must be from {low:g} to {high:g}; got {value:g}.")
    return float(value)


class IdConverter:
    """``<id:name>`` in a URL: a database id, or no match (a 404 like any unknown id)."""

    regex = f"[0-9]{{1,{ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)
        return number

    def to_url(self, value: int) -> str:
        return str(value)
