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
        stated = any(w in text for w in world.COLOUR_WORDS[main.colour])
        assert stated == p.colour_stated
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


def test_a_caption_that_leaves_the_colour_out_is_labelled_so():
    rng = random.Random(8)
    unstated = [p for p in (world.sample_params(rng) for _ in range(300))
                if not p.colour_stated]  # fmt: skip
    assert 10 <= len(unstated) <= 120
    for p in unstated[:10]:
        labels = dict(zip(world.ATTRIBUTES, world.attribute_labels(p), strict=True))
        assert labels["colour"] == 0
        assert labels["object"] == world.OBJECTS.index(p.objects[0].shape) + 1


def _subject_clip(shape, scene, motion, size=64, colour="red"):
    obj = world.ObjectParams(
        shape, colour, y=world.SUBJECT_HEIGHT.get(shape, 0.5), motion=motion
    )
    return world.render(world.ClipParams(scene, (obj,)), 16, size)


def test_the_valley_and_the_skyline_render_their_own_colours():
    valley = world.render(world.ClipParams("valley", ()), 2, 64).astype(float)
    skyline = world.render(world.ClipParams("skyline", ()), 2, 64).astype(float)
    # Sunrise: a warm sky near the peaks; below them mist and a green floor.
    horizon = valley[0, 24:27].mean((0, 1))
    assert horizon[0] > horizon[2] + 40
    floor = valley[0, -6:].mean((0, 1))
    assert floor[1] > floor[0] and floor[1] > floor[2]
    # Dusk: a deep blue sky over dark towers, some windows lit.
    sky = skyline[0, :8].mean((0, 1))
    assert sky[2] > sky[0] + 30 and sky.mean() < 90
    towers = skyline[0, 50:58]
    assert towers.mean() < 70
    lit = (towers[..., 0] > 180) & (towers[..., 2] < 130)
    assert 0.02 < lit.mean() < 0.5


def test_a_bird_glides_with_a_few_wing_beats_and_faces_its_way():
    beats = [world.wing_beat(i / 63) for i in range(64)]
    still = sum(abs(b) < 1e-6 for b in beats)
    assert 0.5 < still / 64 < 0.9  # gliding most of the time
    assert max(beats) > 0.9 and min(beats) < -0.9  # and now and then a full beat
    right = _subject_clip("bird", "day", "right")
    left = _subject_clip("bird", "day", "left")
    # Facing the other way mirrors the bird: its head leads.
    a = right[8, :, :, 0].astype(float) - right[8, :, :, 2].astype(float)
    b = left[8, :, :, 0].astype(float) - left[8, :, :, 2].astype(float)
    cols_a = (a > 100).sum(0).nonzero()[0]
    cols_b = (b > 100).sum(0).nonzero()[0]
    assert len(cols_a) > 8 and len(cols_b) > 8
    head_a = (a > 100)[:, cols_a[-3:]].sum()
    tail_a = (a > 100)[:, cols_a[:3]].sum()
    head_b = (b > 100)[:, cols_b[:3]].sum()
    assert head_a > tail_a and head_b > 0


def test_a_car_drives_along_the_ground_on_dark_wheels():
    clip = _subject_clip("car", "field", "right", colour="blue")
    blue = (clip[..., 2] > 180) & (clip[..., 0] < 100)
    ys, xs = np.nonzero(blue[0])
    ys2, xs2 = np.nonzero(blue[-1])
    assert xs2.mean() > xs.mean() + 10  # it drives right
    assert abs(ys2.mean() - ys.mean()) < 1.0  # along the ground
    assert ys.mean() > 32  # in the lower half, on the ground
    assert (xs.max() - xs.min()) > 1.8 * (ys.max() - ys.min())  # long and low
    below = clip[0, ys.max() - 1 : ys.max() + 4, xs.min() : xs.max()]
    assert (below.max(-1) < 60).mean() > 0.1  # dark tyres under the body
    assert set(world.SUBJECT_MOTIONS["car"]) <= {
        "left",
        "right",
        "still",
        "grow",
        "shrink",
    }


def test_the_new_words_name_the_new_terms():
    for word in ("hawk", "eagle", "gull"):
        assert word in world.OBJECT_WORDS["bird"]
    assert any("valley" in w for w in world.SCENE_WORDS["valley"])
    assert any("mountains" in w for w in world.SCENE_WORDS["valley"])
    assert any("peaks" in w for w in world.SCENE_WORDS["valley"])
    assert any("skyline" in w for w in world.SCENE_WORDS["skyline"])
    assert not any("dusk" in w for w in world.SCENE_WORDS["sunset"])


def test_a_subject_is_named_by_its_own_words_whole_and_in_the_plural():
    assert world.names_subject("a hawk enters frame and glides", "bird")
    assert world.names_subject("Two EAGLES over the peaks", "bird")
    assert world.names_subject("a bird of prey circles", "bird")
    assert world.names_subject("taxis crossing the skyline", "car")
    assert not world.names_subject("a carmine crate expanding", "car")
    assert not world.names_subject("a scarlet ball, a cargo of light", "car")
    assert not world.names_subject("a hawkish look", "bird")
