from __future__ import annotations

import random
from dataclasses import replace

import numpy as np

from generation.builtin import world


def test_it_renders_clips_of_any_length_as_uint8_frames():
    p = world.sample_params(random.Random(0))
    for frames in (8, 17, 48):
        clip = world.render(p, frames, 32)
        assert clip.shape == (frames, 32, 32, 3)
        assert clip.dtype == np.uint8


def test_the_same_parameters_render_the_same_clip():
    p = world.sample_params(random.Random(3))
    assert np.array_equal(world.render(p, 8, 32), world.render(p, 8, 32))


def test_a_moving_object_changes_the_frames_and_a_still_one_on_a_static_camera_does_not():
    base = world.ClipParams(
        "night", (world.ObjectParams("ball", "red", motion="left"),)
    )
    moving = world.render(base, 8, 32)
    still = world.render(
        world.ClipParams("night", (world.ObjectParams("ball", "red"),)), 8, 32
    )
    assert np.abs(moving[0].astype(int) - moving[-1]).mean() > 2
    assert np.abs(still[0].astype(int) - still[-1]).mean() == 0


def test_a_pan_moves_the_textured_scene():
    empty = world.ClipParams("field", (), camera="pan-left")
    clip = world.render(empty, 8, 32).astype(int)
    assert np.abs(clip[0] - clip[-1]).mean() > 5


def test_captions_name_the_colour_object_and_camera_in_many_phrasings():
    rng = random.Random(1)
    captions = set()
    for _ in range(200):
        p = world.sample_params(rng)
        text = world.caption(p, rng).lower()
        main = p.objects[0]
        assert any(w in text for w in world.COLOUR_WORDS[main.colour])
        assert any(w in text for w in world.OBJECT_WORDS[main.shape])
        if p.camera != "static":
            words = world.CAMERA_PREFIX[p.camera] + world.CAMERA_SUFFIX[p.camera]
            assert any(w.lower().rstrip(":,") in text for w in words)
        captions.add(text)
    assert len(captions) == 200


def test_held_out_words_and_combinations_never_appear_in_training_samples():
    rng = random.Random(2)
    for _ in range(400):
        p = world.sample_params(rng)
        main = p.objects[0]
        assert not world.combo_is_held_out(
            main.colour, main.shape, main.motion, p.scene
        )
        text = world.caption(p, rng)
        assert not any(
            f" {w} " in f" {text.lower()} "
            for w in world.HELD_OUT_WORDS
            if " " not in w and ":" not in w
        )


def test_held_out_samples_use_held_out_combinations():
    rng = random.Random(4)
    for _ in range(50):
        p = world.sample_params(rng, held_out=True)
        main = p.objects[0]
        assert world.combo_is_held_out(main.colour, main.shape, main.motion, p.scene)


def test_attribute_labels_name_what_the_caption_states():
    params = world.ClipParams(
        scene="sea",
        objects=(
            world.ObjectParams("ball", "red", motion="left"),
            world.ObjectParams("box", "blue", x=0.8),
        ),
        camera="push-in",
    )
    labels = dict(zip(world.ATTRIBUTES, world.attribute_labels(params), strict=True))
    names = {k: world.ATTRIBUTES[k][v - 1] for k, v in labels.items()}
    assert names == {
        "colour": "red",
        "object": "ball",
        "motion": "left",
        "scene": "sea",
        "camera": "push-in",
        "colour2": "blue",
        "object2": "box",
        "side2": "right",
    }
    alone = world.attribute_labels(replace(params, objects=params.objects[:1]))
    assert alone[-3:] == [0, 0, 0]
    assert world.attribute_labels(None) == [0] * len(world.ATTRIBUTES)
    assert len(world.ATTRIBUTE_GROUPS) == len(world.ATTRIBUTES)
