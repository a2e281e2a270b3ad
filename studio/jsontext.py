"""JSON from clients, refused unless every string in it can be stored.

``json.loads`` accepts what no database column holds: a lone UTF-16 surrogate
written as an escape (``"\\ud800"``: SQLite and PostgreSQL both fail to encode
it) and NUL characters (PostgreSQL refuses them in text). It also raises
``RecursionError`` on deeply nested arrays, and reads ``NaN``,
``Infinity`` and ``1e999`` as numbers no setting can take. Every JSON body, upload and
websocket message goes through :func:`loads`, which turns all of these into
one error with a message for the creator.
"""

from __future__ import annotations

import json
import math
from typing import Any

UNSTORABLE_TEXT = "Text can't contain NUL characters or unpaired surrogates."
NOT_FINITE = "Numbers must be finite: NaN, Infinity and 1e999 are not numbers."


class JSONTextError(ValueError):
    """The input is not JSON the studio can take; ``str()`` says why."""


def loads(raw: bytes | str) -> Any:
    """Parse ``raw`` like :func:`json.loads`, or raise :class:`JSONTextError`."""
    try:
        data = json.loads(raw, parse_constant=_not_finite, parse_float=_finite)
    except RecursionError:
        raise JSONTextError("The JSON is nested too deeply.") from None
    except JSONTextError:
        raise
    except ValueError:  # JSONDecodeError, UnicodeDecodeError
        raise JSONTextError("This is not valid JSON.") from None
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, str) and not _storable(value):
            raise JSONTextError(UNSTORABLE_TEXT)
    return data


def _not_finite(text: str) -> float:
    raise JSONTextError(NOT_FINITE)


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise JSONTextError(NOT_FINITE)
    return number


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
