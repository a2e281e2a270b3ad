from __future__ import annotations

import pytest

from studio.storyboards.script import beats, characters, propose_shots, shot_type

SCENE = (
    "A hawk circles above a green valley at dawn. "
    "Mia looks up and smiles at the sky. "
    '"We follow it," Mia whispers to Tom.'
)


def test_it_proposes_one_shot_per_sentence():
    shots = propose_shots(SCENE)
    assert len(shots) == 3
    assert shots[0].source.startswith("A hawk circles")


def test_the_first_shot_is_the_establishing_shot():
    assert propose_shots(SCENE)[0].kind == "establishing"


def test_dialogue_is_a_close_up_and_a_feeling_is_a_reaction():
    kinds = [shot.kind for shot in propose_shots(SCENE)]
    assert kinds == ["establishing", "reaction", "close-up"]


def test_a_spoken_line_becomes_the_caption_and_leaves_the_prompt():
    shot = propose_shots(SCENE)[2]
    assert shot.caption == "We follow it,"
    assert "We follow it" not in shot.prompt
    assert "whispers to Tom" in shot.prompt


def test_a_beat_without_speech_is_its_own_caption():
    assert propose_shots(SCENE)[1].caption == "Mia looks up and smiles at the sky."


def test_it_finds_characters_by_capitalised_name_and_at_reference():
    shots = propose_shots(SCENE + " Then @rex barks at the Hawk-Eye drone.")
    assert shots[1].characters == ["Mia"]
    assert shots[2].characters == ["Mia", "Tom"]
    assert shots[3].characters == ["rex", "Hawk-Eye"]


def test_a_sentence_start_is_not_a_name_unless_seen_elsewhere():
    assert characters("Suddenly the lights go out.") == []
    assert characters("Rain falls. The door opens.") == []


def test_a_short_sentence_joins_the_beat_before_it():
    found = beats("The door creaks open slowly. Silence. A cat walks in.")
    assert [text for text, _ in found] == [
        "The door creaks open slowly. Silence.",
        "A cat walks in.",
    ]


def test_script_lines_with_a_speaker_are_dialogue():
    shots = propose_shots("INT. KITCHEN - NIGHT\n\nMIA: Where is the key?")
    assert shots[1].kind == "close-up"
    assert shots[1].characters == ["MIA"]
    assert shots[1].caption == "Where is the key?"


def test_a_paragraph_break_ends_a_beat():
    found = beats("Rain falls.\n\nThe end.")
    assert [text for text, _ in found] == ["Rain falls.", "The end."]


def test_objects_get_inserts_and_landscapes_get_wides():
    assert shot_type("Her hand finds the key.", first=False, spoken=False) == "insert"
    assert shot_type("The city sleeps.", first=False, spoken=False) == "wide"
    assert shot_type("He walks home.", first=False, spoken=False) == "medium"


def test_it_refuses_empty_and_over_long_scripts():
    with pytest.raises(ValueError, match="Paste a scene"):
        propose_shots("   ")
    with pytest.raises(ValueError, match="under"):
        propose_shots("word " * 3000)


def test_it_proposes_at_most_forty_shots():
    assert len(propose_shots("The ball rolls far away. " * 60)) == 40
