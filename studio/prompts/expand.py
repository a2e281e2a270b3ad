"""Wildcards, named lists and characters: one prompt, many variations.

Syntax, parsed here and nowhere else:
- ``{red|blue|green} ball`` picks one option; options nest (``{a {big|small}|a}``)
  and may be empty (``{very |}fast``).
- ``$colour`` stands for a named list; its options may hold wildcards too.
- ``@mia`` inserts a character's saved description, literally.
- A backslash escapes the next character: ``\\{``, ``\\|``, ``\\$``, ``\\@``.

Counting never enumerates, so "this makes 40 000 clips" is cheap to say.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from generation.specs import MAX_PROMPT_CHARS
from studio.prompts.vocabulary import NAME_PATTERN

MAX_VARIATIONS = 64
MAX_DEPTH = 8
NAME_AT = re.compile(NAME_PATTERN)


class ExpansionError(ValueError):
    """A prompt that cannot be expanded; the message says where and why."""


@dataclass(frozen=True)
class Choice:
    options: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True)
class ListRef:
    name: str


@dataclass(frozen=True)
class CharRef:
    name: str


Node = str | Choice | ListRef | CharRef


@dataclass(frozen=True)
class Expansion:
    variations: list[str]
    count: int
    truncated: bool
    characters: list[str]

    @property
    def message(self) -> str:
        if self.count <= 1:
            return "1 clip"
        if self.truncated:
            return (
                f"This prompt makes {self.count:,} variations; only the first "
                f"{len(self.variations)} are used (the cap is {MAX_VARIATIONS})."
            )
        return f"{self.count} variations"


def _reference(text: str, at: int, sigil: str) -> tuple[str, int] | None:
    # `a@b` is an address, not a reference: the sigil must start a word.
    if at > 0 and (text[at - 1].isalnum() or text[at - 1] == "_"):
        return None
    match = NAME_AT.match(text, at + 1)
    if not match:
        return None
    return match.group(0), match.end()


def parse(text: str, *, depth: int = 0) -> tuple[Node, ...]:
    """Parse prompt text into nodes; raises ExpansionError on bad syntax."""
    nodes, end = _parse_sequence(text, 0, depth, inside=False)
    if end < len(text):
        raise ExpansionError(
            f"Unmatched '{text[end]}' at character {end + 1}; escape it as "
            f"\\{text[end]} to keep it."
        )
    return nodes


def _parse_sequence(
    text: str, at: int, depth: int, *, inside: bool
) -> tuple[tuple[Node, ...], int]:
    nodes: list[Node] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            nodes.append("".join(buffer))
            buffer.clear()

    while at < len(text):
        char = text[at]
        if char == "\\" and at + 1 < len(text):
            buffer.append(text[at + 1])
            at += 2
        elif char == "{":
            if depth >= MAX_DEPTH:
                raise ExpansionError(
                    f"Wildcards nest more than {MAX_DEPTH} deep; flatten them."
                )
            flush()
            choice, at = _parse_choice(text, at + 1, depth + 1)
            nodes.append(choice)
        elif char in "|}":
            if inside:
                break
            raise ExpansionError(
                f"Unmatched '{char}' at character {at + 1}; escape it as "
                f"\\{char} to keep it."
            )
        elif char in "$@" and (ref := _reference(text, at, char)):
            flush()
            name, at = ref
            nodes.append(ListRef(name) if char == "$" else CharRef(name))
        else:
            buffer.append(char)
            at += 1
    flush()
    return tuple(nodes), at


def _parse_choice(text: str, at: int, depth: int) -> tuple[Choice, int]:
    start = at - 1
    options = []
    while True:
        option, at = _parse_sequence(text, at, depth, inside=True)
        options.append(option)
        if at >= len(text):
            raise ExpansionError(
                f"The '{{' at character {start + 1} is never closed with '}}'."
            )
        if text[at] == "}":
            return Choice(tuple(options)), at + 1
        at += 1  # past '|'


class Expander:
    """Expands prompts against one creator's characters and named lists."""

    def __init__(
        self,
        *,
        characters: Mapping[str, str] | None = None,
        lists: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.characters = {k.lower(): v for k, v in (characters or {}).items()}
        self.lists = {k.lower(): list(v) for k, v in (lists or {}).items()}
        self._parsed_lists: dict[str, Choice] = {}

    def expand(self, text: str, *, cap: int = MAX_VARIATIONS) -> Expansion:
        if len(text) > MAX_PROMPT_CHARS:
            raise ExpansionError(
                f"The prompt is {len(text):,} characters long; keep it under "
                f"{MAX_PROMPT_CHARS:,}."
            )
        nodes = self._resolve(parse(text), depth=0, seen=())
        count = _count(nodes)
        variations = []
        for variation in itertools.islice(_render(nodes, cap), cap):
            variation = tidy(variation)
            if len(variation) > MAX_PROMPT_CHARS:
                raise ExpansionError(
                    f"A variation is {len(variation):,} characters long once "
                    f"expanded; keep it under {MAX_PROMPT_CHARS:,}."
                )
            variations.append(variation)
        used = sorted({n.name for n in _walk(parse(text)) if isinstance(n, CharRef)})
        return Expansion(variations, count, count > cap, used)

    def _resolve(
        self, nodes: tuple[Node, ...], *, depth: int, seen: tuple[str, ...]
    ) -> tuple[Node, ...]:
        out: list[Node] = []
        for node in nodes:
            if isinstance(node, CharRef):
                description = self.characters.get(node.name.lower())
                if description is None:
                    raise ExpansionError(
                        f"No character named @{node.name}; create it, or write "
                        f"\\@{node.name} to keep the text as it is."
                    )
                out.append(description)
            elif isinstance(node, ListRef):
                out.append(self._list_choice(node.name, depth=depth, seen=seen))
            elif isinstance(node, Choice):
                out.append(
                    Choice(
                        tuple(
                            self._resolve(option, depth=depth, seen=seen)
                            for option in node.options
                        )
                    )
                )
            else:
                out.append(node)
        return tuple(out)

    def _list_choice(self, name: str, *, depth: int, seen: tuple[str, ...]) -> Choice:
        key = name.lower()
        if key in seen:
            raise ExpansionError(f"The list ${name} refers to itself.")
        if depth >= MAX_DEPTH:
            raise ExpansionError(f"Named lists nest more than {MAX_DEPTH} deep.")
        options = self.lists.get(key)
        if options is None:
            raise ExpansionError(
                f"No list named ${name}; create it, or write \\${name} to keep "
                "the text as it is."
            )
        if not options:
            raise ExpansionError(f"The list ${name} is empty.")
        return Choice(
            tuple(
                self._resolve(
                    parse(option, depth=depth + 1), depth=depth + 1, seen=(*seen, key)
                )
                for option in options
            )
        )


def _walk(nodes: tuple[Node, ...]) -> Iterator[Node]:
    for node in nodes:
        yield node
        if isinstance(node, Choice):
            for option in node.options:
                yield from _walk(option)


def _count(nodes: tuple[Node, ...]) -> int:
    total = 1
    for node in nodes:
        if isinstance(node, Choice):
            total *= sum(_count(option) for option in node.options)
    return total


def _render(nodes: tuple[Node, ...], cap: int) -> Iterator[str]:
    """Variations in reading order, the first option of each choice first.

    Lazy: each part is rendered to at most ``cap`` strings, so a prompt with
    a million variations costs only the first few.
    """
    parts = []
    for node in nodes:
        if isinstance(node, Choice):
            options = itertools.chain.from_iterable(
                _render(option, cap) for option in node.options
            )
            parts.append(list(itertools.islice(options, cap)))
        else:
            parts.append([str(node)])
    for combination in itertools.product(*parts):
        yield "".join(combination)


def tidy(text: str) -> str:
    """Collapse the spaces and stray commas that empty options leave behind."""
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;])(?:\s*[,;])+", r"\1", text)
    return text.strip(" ,;")
