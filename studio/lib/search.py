"""How the studio reads a search box: the same words, the same matching, on
every page that has one.

A query is split into at most ``MAX_TERMS`` lower-case words. Each word
matches where a word of the text begins with its stem, so "cats" finds "cat"
and "cats", "boxes" finds "box", and "bounc" (typed on the way to "bouncing")
already finds "bounce". The library's full-text index (Porter stems, prefix
queries) reads words the same way.
"""

from __future__ import annotations

import re

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
TERM = re.compile(r"\w+", re.UNICODE)
# Word endings that make a plural (or a third person) of the same word, longest
# first; each with what replaces it. A stem never gets shorter than three letters.
_ENDINGS = (
    ("sses", "ss"),
    ("ies", "y"),
    ("xes", "x"),
    ("ches", "ch"),
    ("shes", "sh"),
    ("oes", "o"),
    ("s", ""),
)
_KEEP = ("ss", "us", "is")


def terms(query: str) -> list[str]:
    """The words of ``query`` a search looks for, lower-cased and bounded."""
    return TERM.findall(query[:MAX_QUERY_CHARS].lower())[:MAX_TERMS]


def stem(word: str) -> str:
    """``word`` without a plural ending: "cats" → "cat", "puppies" → "puppy"."""
    word = word.lower()
    if word.endswith(_KEEP):
        return word
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) + len(replacement) >= 3:
            return word[: -len(ending)] + replacement
    return word


def word_start_pattern(word: str) -> str:
    """A case-insensitive regular expression that both SQLite (Python's ``re``)
    and PostgreSQL read alike: a word of the text starts with ``word``'s stem.

    "puppies" looks for "pupp", so that "puppy" and "puppies" both match."""
    root = stem(word)
    if root.endswith("y") and len(root) > 3:
        root = root[:-1]
    return r"(^|\W)" + re.escape(root)
