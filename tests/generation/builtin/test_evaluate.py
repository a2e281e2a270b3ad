from __future__ import annotations

from generation.builtin import evaluate, world


def held_out(params: world.ClipParams) -> bool:
    [o] = params.objects
    return world.combo_is_held_out(o.colour, o.shape, o.motion, params.scene)


def test_the_frozen_prompts_are_single_held_out_objects_in_held_out_phrasing():
    cases = evaluate.heldout_cases(256)
    assert len(cases) == 256
    assert all(held_out(p) for p, _ in cases)
    captions = [c for _, c in cases]
    assert all(captions) and len(set(captions)) > 250
    # Every phrasing has a held-out word or template; most show a held-out word.
    words = sorted(world.HELD_OUT_WORDS, key=len, reverse=True)
    with_word = [c for c in captions if any(w in c.lower() for w in words)]
    assert len(with_word) > 128


def test_the_frozen_prompts_stay_put_when_the_vocabulary_grows(monkeypatch):
    before = evaluate.heldout_cases(16)
    monkeypatch.setitem(
        world.COLOUR_WORDS, "red", [*world.COLOUR_WORDS["red"], "lobster red"]
    )
    assert evaluate.heldout_cases(16) == before
    assert [c for _, c in evaluate.heldout_cases(16)] == [c for _, c in before]
    # A fresh draw from the grown vocabulary is different.
    drawn = evaluate.draw_heldout_cases(16)
    assert [c for _, c in drawn] != [c for _, c in before]


def test_more_prompts_than_are_frozen_are_drawn_from_the_world():
    cases = evaluate.heldout_cases(300)
    assert len(cases) == 300
    assert all(held_out(p) for p, _ in cases)


def test_cases_survive_a_round_trip_through_json(tmp_path):
    cases = evaluate.draw_heldout_cases(10, seed=7)
    evaluate.save_cases(cases, tmp_path / "cases.json")
    back = evaluate.load_cases(tmp_path / "cases.json")
    assert back == cases
    assert [c for _, c in back] == [c for _, c in cases]
    assert evaluate.load_cases(tmp_path / "missing.json") == []
