from __future__ import annotations

import pytest

from studio import jsontext


def test_ordinary_json_parses_as_json_loads_would():
    raw = '{"prompt": "a red ball, slow push-in — ✨", "tags": ["noir"], "n": 3}'
    assert jsontext.loads(raw) == {
        "prompt": "a red ball, slow push-in — ✨",
        "tags": ["noir"],
        "n": 3,
    }
    assert jsontext.loads(b"[1, 2.5, null, true]") == [1, 2.5, None, True]


@pytest.mark.parametrize(
    "raw",
    [
        '{"prompt": "\\ud800"}',  # a lone surrogate, escaped
        '{"tags": [["deep", "\\udfff"]]}',
        '{"prompt": "nul \\u0000 byte"}',
        '{"\\u0000": "in a key"}',
    ],
)
def test_text_no_database_can_store_is_refused_with_a_reason(raw):
    with pytest.raises(jsontext.JSONTextError, match="NUL characters or unpaired"):
        jsontext.loads(raw)


def test_deep_nesting_and_broken_json_are_refused_not_crashed_on():
    with pytest.raises(jsontext.JSONTextError, match="nested too deeply"):
        jsontext.loads("[" * 100_000)
    with pytest.raises(jsontext.JSONTextError, match="not valid JSON"):
        jsontext.loads(b'{"prompt": ')
    with pytest.raises(jsontext.JSONTextError, match="not valid JSON"):
        jsontext.loads(b"\xff\xfe")
