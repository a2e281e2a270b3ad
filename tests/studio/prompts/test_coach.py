from __future__ import annotations

from studio.prompts.coach import Draft, coach

MIA = {"mia": "a young woman in a red coat, short black hair"}


def codes(text: str, **kwargs) -> list[str]:
    return [hint.code for hint in coach(Draft(text, **kwargs))]


def hint(text: str, code: str, **kwargs):
    return next(h for h in coach(Draft(text, **kwargs)) if h.code == code)


def test_an_empty_prompt_gets_no_hints():
    assert coach(Draft("   ")) == []


def test_a_well_formed_shot_gets_no_hints():
    assert codes("a red ball bouncing to the right, slow push-in") == []


def test_a_bare_subject_asks_what_it_does():
    found = hint("a cat", "bare_subject")
    assert "“a cat” — what does it do?" in found.message
    assert found.fix["text"].startswith("a cat ")
    assert "bare_subject" not in codes(found.fix["text"])


def test_a_longer_prompt_without_motion_says_nothing_moves():
    assert "no_motion" in codes("a quiet old lighthouse on a rocky coast, static shot")
    assert "no_motion" not in codes("a lighthouse beam sweeping over the sea, static")


def test_a_bare_subject_is_not_also_told_nothing_moves():
    assert "no_motion" not in codes("a cat")


def test_no_camera_named_offers_a_push_in():
    found = hint("a fox trotting through snow", "no_camera")
    assert found.fix["text"] == "a fox trotting through snow, slow push-in"
    assert "no_camera" not in codes(found.fix["text"])
    assert "no_camera" not in codes("a fox trotting through snow, pan left")


def test_too_many_actions_for_a_short_clip():
    text = "a man runs, jumps, swims, dances and climbs, static shot"
    found = hint(text, "too_many_actions", num_frames=16, fps=8)
    assert "5 actions in a 2 s clip" in found.message
    # Six seconds leave room for four actions, not five.
    assert "too_many_actions" in codes(text, num_frames=48, fps=8)
    assert "too_many_actions" not in codes(
        "a man runs and jumps, static shot", num_frames=16, fps=8
    )


def test_duration_words_that_contradict_the_length_are_fixed():
    found = hint(
        "a flower blooming over 10 seconds, static shot",
        "duration_mismatch",
        num_frames=16,
        fps=8,
    )
    assert "“over 10 seconds”" in found.message
    assert found.fix["text"] == "a flower blooming over 2 seconds, static shot"
    assert codes(found.fix["text"], num_frames=16, fps=8) == []


def test_duration_words_that_match_the_length_pass():
    assert "duration_mismatch" not in codes(
        "a flower blooming for two seconds, static", num_frames=16, fps=8
    )
    assert "duration_mismatch" in codes("clouds rolling for an hour, wide shot")
    # Words that merely contain a unit are not durations.
    assert "duration_mismatch" not in codes("the ones as 2 shots pan left, moving")


def test_a_character_described_differently_drifts():
    found = hint(
        "@mia in a blue coat walks to the left, pan left",
        "character_drift",
        characters=MIA,
    )
    assert "blue" in found.message
    assert "@mia" in found.fix["text"] and "blue" not in found.fix["text"]


def test_a_character_used_as_saved_does_not_drift():
    assert "character_drift" not in codes(
        "@mia walks to the left, pan left", characters=MIA
    )
    assert "character_drift" not in codes(
        "@mia in her red coat walks left, pan left", characters=MIA
    )


def test_an_unsaved_character_that_changes_between_mentions_drifts():
    text = (
        "@zoe in a green dress walks left, then @zoe in a yellow dress runs, pan left"
    )
    assert "character_drift" in codes(text, characters={"zoe": "a girl"})
    assert "character_drift" in codes(text)


def test_an_unknown_character_is_pointed_out():
    found = hint("@zoe runs to the right, pan right", "unknown_character")
    assert "@zoe" in found.message
    assert "unknown_character" not in codes(
        "@mia runs to the right, pan right", characters=MIA
    )
    # An address is not a character.
    assert "unknown_character" not in codes("mail mia@example.com walks in, pan left")


def test_text_and_logos_are_discouraged():
    assert "text_or_logo" in codes('a shop sign that reads "OPEN" swaying, static')
    assert "text_or_logo" in codes("a spinning brand logo, slow push-in")
    assert "text_or_logo" not in codes("a spinning top, slow push-in")


def test_very_long_prompts_are_flagged():
    long_text = "a red ball bouncing to the right, slow push-in " + "very " * 80
    assert "too_long" in codes(long_text)
    assert "too_long" not in codes("a red ball bouncing to the right, slow push-in")


def test_hints_serialise_with_an_optional_fix():
    data = [h.as_dict() for h in coach(Draft("a cat"))]
    assert {"code", "message", "fix"} <= set(data[0])
    plain = hint("a quiet old lighthouse on a rocky coast, static shot", "no_motion")
    assert "fix" not in plain.as_dict()
