from __future__ import annotations

import numpy as np

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


def reading(**changes):
    from generation.builtin.detector import Reading

    base = dict(
        colour="red",
        motion="left",
        camera="static",
        presence=1.0,
        size_variation=0.0,
        flicker=0.0,
        displacement=(0.0, 0.0),
        area_ratio=1.0,
        camera_shift=0.0,
        camera_scale=1.0,
    )
    return Reading(**{**base, **changes})


def test_the_breakdown_shows_which_values_fail_and_what_they_were_read_as():
    cases = evaluate.draw_heldout_cases(40, seed=3)
    readings = []
    for i, (p, _) in enumerate(cases):
        [o] = p.objects
        # Every "down" clip is read as growing; the rest come out right, and
        # every fourth clip loses its object for half of the frames.
        motion = "grow" if o.motion == "down" else o.motion
        presence = 0.5 if i % 4 == 0 else 1.0
        readings.append(
            reading(colour=o.colour, motion=motion, camera=p.camera, presence=presence)
        )
    table = evaluate.breakdown(readings, cases)

    by_motion = table["motion"]["motion"]
    assert set(by_motion) == {p.objects[0].motion for p, _ in cases}
    if "down" in by_motion:
        assert by_motion["down"]["accuracy"] == 0.0
        assert by_motion["down"]["confused_with"] == "grow"
    for name, group in by_motion.items():
        if name != "down":
            assert group["accuracy"] == 1.0 and "confused_with" not in group
    assert sum(g["cases"] for g in by_motion.values()) == 40
    assert all(g["accuracy"] == 1.0 for g in table["colour"]["colour"].values())
    presence = [g["accuracy"] for g in table["presence"]["scene"].values()]
    assert min(presence) < 1.0 and all(0.5 <= a <= 1.0 for a in presence)
    assert evaluate.score(readings, cases)["presence"] == 0.875  # 10 clips at half


def test_the_brief_prompt_counts_as_asked_only_as_a_bird_across_a_panned_valley():
    asked = dict(subject="bird", scene="valley", camera="pan-right", motion="right")
    assert evaluate.lead_as_asked(reading(colour="orange", **asked))
    assert evaluate.lead_as_asked(reading(colour=None, **{**asked, "motion": "left"}))
    for wrong in (
        {"subject": "car"},
        {"scene": "sunset"},
        {"camera": "static"},
        {"motion": "grow"},
        {"motion": None},
    ):
        assert not evaluate.lead_as_asked(reading(colour="white", **{**asked, **wrong}))


def test_the_grid_opens_with_the_first_seed_read_as_asked_and_counts_them():
    asked = dict(subject="bird", scene="valley", camera="pan-right", motion="right")
    good = reading(colour="white", **asked)
    car = reading(colour="white", **{**asked, "subject": "car"})
    assert evaluate.pick_lead([car, car, good, car, good]) == (2, 2)
    assert evaluate.pick_lead([good]) == (0, 1)
    # None as asked: the first seed is shown, and the count says so.
    assert evaluate.pick_lead([car, car]) == (0, 0)


def test_the_sample_grid_labels_a_long_prompt_on_two_lines(tmp_path):
    from PIL import Image

    clips = np.zeros((2, 4, 32, 32, 3), np.uint8)
    clips[0, :, 8:24, 8:24] = 255
    evaluate.sample_grid(
        clips, [evaluate.LEAD_PROMPT * 2, "a red ball"], tmp_path / "g.png"
    )
    grid = np.asarray(Image.open(tmp_path / "g.png").convert("L"))
    assert grid.shape == (2 * (96 + 28), 6 * 96)
    label = grid[96 : 96 + 28]
    # Text on both lines under the first row's frames.
    assert label[:14].max() > 200 and label[14:].max() > 200
    assert grid[:96].max() == 255  # the white square
