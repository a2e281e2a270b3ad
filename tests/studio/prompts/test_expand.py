from __future__ import annotations

import re

import pytest

from studio.prompts.expand import MAX_VARIATIONS, Expander, ExpansionError, tidy

MIA = "a young woman in a red coat, short black hair"


@pytest.fixture
def expander() -> Expander:
    return Expander(
        characters={"mia": MIA},
        lists={"colour": ["red", "{dark|light} blue"], "loop": ["$loop"], "none": []},
    )


def test_a_plain_prompt_is_one_variation(expander):
    result = expander.expand("a red ball bouncing")
    assert result.variations == ["a red ball bouncing"]
    assert result.count == 1 and not result.truncated


def test_wildcards_expand_in_reading_order(expander):
    result = expander.expand("{red|blue|green} ball")
    assert result.variations == ["red ball", "blue ball", "green ball"]


def test_several_wildcards_multiply(expander):
    result = expander.expand("{a|b} {x|y}")
    assert result.variations == ["a x", "a y", "b x", "b y"]
    assert result.count == 4


def test_wildcards_nest(expander):
    result = expander.expand("a {car {big|small}|bike} rolls")
    assert result.variations == ["a car big rolls", "a car small rolls", "a bike rolls"]
    assert result.count == 3


def test_empty_options_leave_no_double_spaces(expander):
    assert expander.expand("a {very |}fast {red|} car").variations == [
        "a very fast red car",
        "a very fast car",
        "a fast red car",
        "a fast car",
    ]
    assert expander.expand("{|}").variations == ["", ""]


def test_escapes_keep_the_syntax_characters(expander):
    result = expander.expand(r"a sign \{x\|y\} for \$5 by \@mia")
    assert result.variations == ["a sign {x|y} for $5 by @mia"]


def test_named_lists_expand_and_may_hold_wildcards(expander):
    result = expander.expand("a $colour ball")
    assert result.variations == ["a red ball", "a dark blue ball", "a light blue ball"]


def test_characters_expand_identically_everywhere(expander):
    result = expander.expand("@mia waves, then {@mia|@Mia} runs")
    assert result.variations == [f"{MIA} waves, then {MIA} runs"] * 2
    assert result.characters == ["Mia", "mia"]


def test_an_address_is_not_a_character(expander):
    assert expander.expand("write to hi@mia.com").variations == ["write to hi@mia.com"]


def test_the_cap_keeps_the_first_variations_and_reports_the_full_count(expander):
    result = expander.expand("{a|b}" * 10)
    assert result.count == 1024
    assert result.truncated
    assert len(result.variations) == MAX_VARIATIONS
    assert "1,024" in result.message and str(MAX_VARIATIONS) in result.message


def test_huge_counts_are_counted_without_enumerating(expander):
    result = expander.expand("{a|b|c|d|e|f|g|h|i|j}" * 40)
    assert result.count == 10**40
    assert len(result.variations) == MAX_VARIATIONS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{red|blue ball", "never closed"),
        ("red} ball", "Unmatched '}'"),
        ("red | blue", "Unmatched '|'"),
        ("@zoe walks", "No character named @zoe"),
        ("a $animal", "No list named $animal"),
        ("a $none", "empty"),
        ("a $loop", "refers to itself"),
        ("{" * 9 + "a" + "}" * 9, "nest more than"),
    ],
)
def test_bad_prompts_are_refused_with_a_clear_message(expander, text, message):
    with pytest.raises(ExpansionError, match=re.escape(message)):
        expander.expand(text)


def test_overlong_prompts_and_variations_are_refused(expander):
    with pytest.raises(ExpansionError, match="characters long"):
        expander.expand("x" * 2001)
    big = Expander(characters={"big": "y" * 600})
    with pytest.raises(ExpansionError, match="once expanded"):
        big.expand("@big @big @big @big")


def test_tidy_removes_stray_commas_and_spaces():
    assert tidy("a ball ,  , slow push-in ,") == "a ball, slow push-in"
