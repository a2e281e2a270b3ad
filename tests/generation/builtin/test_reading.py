"""The built-in model's reading of a prompt, from the shipped weights."""

from __future__ import annotations

import pytest

from generation.adapters import read_prompt as read_for_model
from generation.builtin.reading import read_prompt, unknown_words

IN_WORLD = "a red ball bouncing to the right, slow push-in"
PARTLY_OUT = "a fluffy orange cat walking across a wooden floor"
FULLY_OUT = "a sleepy tabby kitten curled on a velvet cushion"


def values(reading: dict) -> dict[str, str]:
    return {name: term["value"] for name, term in reading["terms"].items()}


def test_an_in_world_prompt_reads_as_the_world_terms_it_names():
    reading = read_prompt(IN_WORLD)
    read = values(reading)
    assert read["colour"] == "red"
    assert read["object"] == "ball"
    assert read["motion"] in ("bounce", "right")
    assert read["camera"] == "push-in"
    assert reading["unknown"] == []
    assert reading["terms"]["colour"]["confidence"] > 0.9
    assert reading["summary"].startswith("Will draw: red · ball · ")
    assert "push-in" in reading["summary"]


def test_a_partly_out_prompt_lists_the_words_the_world_lacks():
    reading = read_prompt(PARTLY_OUT)
    assert values(reading)["colour"] == "orange"
    assert {"cat", "wooden", "floor"} <= set(reading["unknown"])
    assert "orange" not in reading["unknown"]
    assert "a" not in reading["unknown"]


def test_a_fully_out_prompt_gets_a_friendly_notice_with_an_in_world_prompt():
    reading = read_prompt(FULLY_OUT)
    assert {"sleepy", "tabby", "kitten", "velvet", "cushion"} <= set(reading["unknown"])
    summary = reading["summary"]
    assert summary.startswith("Most of this prompt is outside this model's world")
    suggestion = summary.split("“")[1].rstrip("”.")
    assert read_prompt(suggestion)["unknown"] == []


def test_the_empty_prompt_states_nothing():
    reading = read_prompt("")
    assert reading["terms"] == {}
    assert reading["unknown"] == []
    assert "Type a prompt" in reading["summary"]


def test_plurals_hyphens_and_filler_words_are_understood():
    unknown, content = unknown_words(
        "Cinematic video: two blue balls, camera pans left"
    )
    assert unknown == []
    assert content == 4  # blue, balls, pans, left


def test_readings_after_the_first_reuse_the_one_loaded_reader():
    from generation.builtin.reading import builtin_reader

    read_prompt("a green star rising at night")
    loads = builtin_reader.cache_info().misses
    for i in range(3):
        read_prompt(f"a purple box shrinking over the sea, take {i}")
    info = builtin_reader.cache_info()
    assert info.misses == loads  # no reading loads the weights again
    assert info.hits >= 3


@pytest.mark.parametrize("name", ["wan-2.1", "no-such-model", ""])
def test_only_the_builtin_model_has_a_reader(name):
    assert read_for_model(name, IN_WORLD) is None
    assert read_for_model("builtin", IN_WORLD)["terms"]["object"]["value"] == "ball"


def test_mood_and_look_words_are_not_called_unknown_but_say_what_they_do():
    reading = read_prompt("film noir, a calm yellow star over a night sky")
    assert reading["unknown"] == []
    uses = {item["word"]: item["use"] for item in reading["elsewhere"]}
    assert set(uses) == {"film", "noir", "calm"}
    assert "“Film noir” look" in uses["noir"]
    assert "music's mood (calm)" in uses["calm"]
    assert reading["summary"].startswith("Will draw: yellow · star")
    # A world word that is also a mood word stays the world's ("still").
    assert "still" not in {
        i["word"] for i in read_prompt("a still red ball")["elsewhere"]
    }
    # Words neither draws nor uses are still unknown beside them.
    mixed = read_prompt("a calm cat")
    assert mixed["unknown"] == ["cat"]
    assert [i["word"] for i in mixed["elsewhere"]] == ["calm"]


def test_the_briefs_prompt_reads_as_a_bird_gliding_over_the_valley_as_the_camera_pans():
    from generation.builtin.evaluate import LEAD_PROMPT

    reading = read_prompt(LEAD_PROMPT)
    read = values(reading)
    assert read["object"] == "bird"  # "a hawk"
    assert read["scene"] == "valley"  # "sunrise over mountains … a misty valley"
    assert read["motion"] == "right"  # "glides across"
    assert read["camera"] == "pan-right"
    assert "colour" not in read  # the prompt names none: any colour will do
    assert reading["unknown"] == []
    assert "bird" in reading["summary"] and "valley" in reading["summary"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "an eagle gliding to the left over the peaks at dawn",
            {"object": "bird", "scene": "valley", "motion": "left"},
        ),
        (
            "a yellow taxi driving to the right through the city at dusk",
            {
                "colour": "yellow",
                "object": "car",
                "scene": "skyline",
                "motion": "right",
            },
        ),
        (
            "a white gull flying right over the ocean",
            {"colour": "white", "object": "bird", "scene": "sea", "motion": "right"},
        ),
    ],
)
def test_the_new_subjects_and_scenes_are_read_from_their_words(text, expected):
    reading = read_prompt(text)
    assert expected.items() <= values(reading).items()
    assert reading["unknown"] == []


def test_the_city_and_its_cars_are_now_in_the_world_but_not_the_future():
    reading = read_prompt("a futuristic city with flying cars")
    assert reading["unknown"] == ["futuristic"]
    assert values(reading)["object"] == "car"
