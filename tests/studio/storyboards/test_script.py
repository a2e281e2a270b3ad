from __future__ import annotations

import pytest

from studio.storyboards.script import (
    beats,
    characters,
    duration,
    propose_shots,
    shot_type,
)

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


# -- shot types, durations, captions and carried context -------------------------

KEEPER = (
    "An old lighthouse keeper climbs the stairs in a lighthouse at dusk. "
    "She finds a letter on the table. "
    "It is sealed with red wax and smells of salt. "
    '"Who sent this?" Mara whispers. '
    "She stares at the door. "
    "Her eyes shine in the lamplight."
)


def test_types_follow_the_scene_establishing_detail_dialogue_reaction():
    kinds = [shot.kind for shot in propose_shots(KEEPER)]
    assert kinds == [
        "establishing",  # the first beat
        "insert",  # a letter: the detail's close-up
        "medium",
        "close-up",  # a quoted line
        "reaction",  # right after the dialogue
        "close-up",  # eyes
    ]


def test_a_pronoun_is_replaced_by_who_or_what_came_before():
    shots = propose_shots(KEEPER)
    assert "The old lighthouse keeper finds a letter" in shots[1].prompt
    assert "The letter is sealed with red wax" in shots[2].prompt
    assert "Mara stares at the door" in shots[4].prompt
    assert "Mara" in shots[4].characters
    # The caption keeps the words as written.
    assert shots[1].caption.startswith("She finds")


def test_the_place_the_scene_opens_in_is_carried_into_later_prompts():
    shots = propose_shots(KEEPER)
    assert "in a lighthouse" in shots[0].prompt
    assert all(shot.prompt.endswith(", in the lighthouse") for shot in shots[1:])


def test_a_beat_naming_its_place_does_not_repeat_it():
    shots = propose_shots(
        "Rain falls on a quiet harbour town. A fisherman walks into the town."
    )
    assert shots[1].prompt.count("town") == 1


def test_the_prompt_says_the_framing_and_the_caption_is_shorter():
    for shot in propose_shots(KEEPER) + propose_shots(SCENE):
        assert len(shot.caption) < len(shot.prompt)
    first = propose_shots(KEEPER)[0]
    assert first.prompt.startswith("Establishing wide shot: ")
    assert first.caption == "An old lighthouse keeper climbs the stairs in…"


def test_more_words_and_verbs_make_a_longer_shot_within_two_to_six_seconds():
    short = duration("The door opens.")
    longer = duration("The keeper climbs the stairs and opens the heavy door.")
    busiest = duration(
        "She runs, jumps the wall, grabs the rope, climbs it, swings over the "
        "river and drops onto the far bank while the guards chase her."
    )
    assert 2.0 <= short < longer < busiest <= 6.0
    assert busiest == 6.0
    assert duration("Rain.") == 2.0


def test_durations_keep_to_the_models_limits_in_whole_frames():
    shots = propose_shots(KEEPER, min_seconds=0.5, max_seconds=3.0, fps=12)
    assert all(2.0 <= shot.duration <= 3.0 for shot in shots)
    assert max(shot.duration for shot in shots) == 3.0
    for shot in propose_shots(KEEPER, fps=7):
        frames = shot.duration * 7
        assert abs(frames - round(frames)) < 1e-6
    # A model that cannot make 2 s gets its longest shot instead.
    tight = propose_shots(KEEPER, max_seconds=1.5, fps=8)
    assert {shot.duration for shot in tight} == {1.5}


def test_a_quoted_question_keeps_its_speech_tag_and_its_own_beat():
    found = [text for text, _ in beats(KEEPER)]
    assert '"Who sent this?" Mara whispers.' in found


def test_the_proposal_is_the_same_every_time():
    assert propose_shots(KEEPER) == propose_shots(KEEPER)


def test_they_means_the_group_the_scene_opened_with():
    shots = propose_shots("Two dogs race across a beach at noon. They dig in the sand.")
    assert shots[1].prompt == "Medium shot: The dogs dig in the sand, on the beach"
    assert shots[1].caption == "They dig in the sand."
