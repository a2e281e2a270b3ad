"""Numbers from requests: read in one place, bounded before any arithmetic."""

from __future__ import annotations

import pytest

from studio import jsontext
from studio.numbers import (
    MAX_ID,
    NumberError,
    check_number,
    check_whole,
    page_and_size,
    parse_decimal,
    parse_id,
    parse_whole,
)


@pytest.mark.parametrize(
    "text", ["²", "٣", "-1", "0", "+1", " 1", "1.0", "1e3", "", str(MAX_ID + 1)]
)
def test_an_id_is_ascii_digits_within_a_database_key(text):
    assert parse_id(text) is None


def test_an_id_reads_plain_digits_up_to_the_largest_key():
    assert parse_id("42") == 42
    assert parse_id(str(MAX_ID)) == MAX_ID


@pytest.mark.parametrize(
    "text", ["²", "1e999999", "1e999999999", "nan", "inf", "9" * 5000, "1.5", "x"]
)
def test_a_whole_number_refuses_what_int_would_choke_on_or_expand(text):
    with pytest.raises(NumberError, match="Frame rate must be a whole number"):
        parse_whole(text, label="Frame rate", low=4, high=30)


@pytest.mark.parametrize(
    "text", ["1e999999", "1e999999999", "NaN", "Infinity", "-inf", "1" * 40, "²"]
)
def test_a_decimal_refuses_exponents_non_finite_values_and_absurd_lengths(text):
    with pytest.raises(NumberError, match="written like 2.5"):
        parse_decimal(text, label="Duration", low=0, high=12)


def test_numbers_outside_their_bounds_say_the_bounds():
    with pytest.raises(NumberError, match="from 0 to 12; got 13"):
        parse_decimal("13", label="Duration", low=0, high=12)
    with pytest.raises(NumberError, match="from 4 to 30; got 31"):
        parse_whole("31", label="Frame rate", low=4, high=30)
    assert parse_decimal(" .5 ", label="Duration", low=0, high=12) == 0.5
    assert parse_whole("", label="Frame rate", low=4, high=30, default=8) == 8


@pytest.mark.parametrize(
    "value", [True, 1.0, "3", None, 10**400, float("nan"), float("inf")]
)
def test_a_json_whole_number_is_an_int_within_bounds(value):
    with pytest.raises(NumberError):
        check_whole(value, label="Rating", low=0, high=5)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), 10**400, False, "1"])
def test_a_json_number_is_finite_and_within_bounds(value):
    with pytest.raises(NumberError):
        check_number(value, label="Duration", low=0, high=30)


def test_an_empty_page_parameter_is_an_error_not_the_default():
    assert page_and_size({}, size=20, max_size=200) == (1, 20, {})
    _, _, errors = page_and_size({"page": "", "page_size": "²"}, size=20, max_size=200)
    assert set(errors) == {"page", "page_size"}


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "1e999999", "[1e400]"])
def test_json_bodies_refuse_numbers_that_are_not_finite(raw):
    with pytest.raises(jsontext.JSONTextError, match="finite"):
        jsontext.loads(raw)
