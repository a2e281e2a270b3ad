"""Looks: the colour grade, grain, vignette and letterbox on finished frames."""

from __future__ import annotations

from dataclasses import replace

import av
import numpy as np
import pytest

from generation import looks
from generation.adapters import InvalidSpecError, check_spec
from generation.encode import probe_video
from generation.previews import decode_strip
from generation.service import GenerationService
from generation.specs import GenerationSpec


def saturation(frames: np.ndarray) -> float:
    """Mean HSV saturation of uint8 frames, 0 (grey) to 1 (pure colour)."""
    rgb = frames.astype(np.float32)
    high, low = rgb.max(-1), rgb.min(-1)
    return float(np.where(high > 0, (high - low) / np.maximum(high, 1), 0).mean())


def decoded(path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack(
            [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
        )


def colourful(t: int = 4, size: int = 48) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.integers(0, 256, (t, size, size, 3), dtype=np.uint8)


class Nowhere:
    def emit(self, job_id, event): ...

    def emit_preview(self, job_id, event): ...


@pytest.fixture(scope="module")
def builtin_clip(tmp_path_factory):
    """A real clip of the shipped built-in model, once with no look and once
    in film noir, with every step's preview of the noir one."""
    service = GenerationService(store=None, sink=Nowhere())
    spec = GenerationSpec(
        prompt="a red ball bouncing to the right over a grass field",
        num_frames=8,
        width=64,
        height=64,
        num_inference_steps=3,
        seed=5,
    )
    out = tmp_path_factory.mktemp("looks")
    plain = service.run_spec(spec, out, basename="plain")
    events = []
    noir_spec = replace(spec, look="Film noir", look_params=looks.resolve("Film noir"))
    noir = service.run_spec(noir_spec, out, basename="noir", on_step=events.append)
    return {"plain": plain, "noir": noir, "events": events, "spec": noir_spec}


def test_film_noir_turns_a_real_builtin_clip_black_and_white(builtin_clip):
    plain = decoded(builtin_clip["plain"].video_path)
    noir = decoded(builtin_clip["noir"].video_path)
    assert saturation(plain) > 0.2  # the model draws a colourful clip
    assert saturation(noir) < 0.1
    # Contrasty: the grey levels spread wider than the plain clip's luma.
    luma = plain.astype(np.float32) @ np.array([0.2126, 0.7152, 0.0722])
    assert noir[..., 0].std() > luma.std()


def test_the_clip_s_metadata_names_its_look(builtin_clip):
    tags = probe_video(builtin_clip["noir"].video_path)["metadata"]
    assert tags["look"] == "Film noir"
    assert '"look": "Film noir"' in tags["comment"]
    assert "look" not in probe_video(builtin_clip["plain"].video_path)["metadata"]


def test_previews_carry_the_look(builtin_clip):
    events = [e for e in builtin_clip["events"] if e.preview]
    assert len(events) == builtin_clip["spec"].num_inference_steps
    for event in events:
        frames = decode_strip(event.preview, event.frames)
        assert saturation(frames) < 0.1


def test_an_identity_cube_leaves_frames_unchanged(tmp_path):
    path = tmp_path / "identity.cube"
    path.write_text(looks.write_cube(looks.identity_lut(17), title="Identity"))
    look = looks.from_settings("Identity", {"lut": str(path)})
    frames = colourful()
    out = look.apply(frames)
    assert np.abs(out.astype(int) - frames).max() <= 1


def test_a_cube_s_table_is_applied_with_red_fastest(tmp_path):
    # A table that swaps red and blue: entry [b, g, r] holds (b, g, r).
    swap = looks.identity_lut(9)[..., ::-1].copy()
    path = tmp_path / "swap.cube"
    path.write_text(looks.write_cube(swap))
    frames = colourful()
    out = looks.from_settings("Swap", {"lut": str(path)}).apply(frames)
    assert np.abs(out.astype(int) - frames[..., ::-1]).max() <= 1


@pytest.mark.parametrize(
    "text, sentence",
    [
        ("hello", "no LUT_3D_SIZE line"),
        ("LUT_3D_SIZE 1\n0 0 0\n", "between 2 and 65"),
        ("LUT_3D_SIZE 99\n", "between 2 and 65"),
        ("LUT_3D_SIZE 2\n0 0 0\n1 1 1\n", "needs 8 rows"),
        ("LUT_3D_SIZE 2\n" + "0 0 nan\n" * 8, "not finite"),
        ("LUT_3D_SIZE 2\n" + "0 0 x\n" * 8, "numbers only"),
        ("LUT_3D_SIZE 2\n" + "0 0\n" * 8, "exactly three numbers"),
        ("LUT_1D_SIZE 4\n", "1D LUT"),
        ("LUT_3D_SIZE two\n", "one whole number"),
    ],
)
def test_a_bad_cube_is_refused_with_a_sentence(text, sentence):
    with pytest.raises(looks.LookError, match=sentence) as caught:
        looks.parse_cube(text)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".")


def test_a_binary_file_is_not_a_cube(tmp_path):
    path = tmp_path / "photo.cube"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(looks.LookError, match="binary"):
        looks.read_cube(path)


def test_look_settings_are_checked_in_words(tmp_path):
    spec = GenerationSpec(prompt="a ball", look="Mine", look_params={"grain": 9})
    assert check_spec(spec)["look"] == ["The look's grain must be between 0 and 0.5."]
    spec = replace(spec, look_params={"sparkle": 1})
    assert "has no setting “sparkle”" in check_spec(spec)["look"][0]
    spec = replace(spec, look_params={"lut": str(tmp_path / "gone.cube")})
    assert "import its .cube file again" in check_spec(spec)["look"][0]
    assert "look" not in check_spec(replace(spec, look="", look_params={}))
    with pytest.raises(looks.LookError, match="no look called “Sepia”"):
        looks.from_settings("Sepia", None)


def test_the_service_refuses_a_bad_look_before_rendering(tmp_path):
    service = GenerationService(store=None, sink=Nowhere())
    spec = GenerationSpec(prompt="a ball", num_frames=8, width=64, height=64,
                          look="Sepia")  # fmt: skip
    with pytest.raises(InvalidSpecError) as caught:
        service.run_spec(spec, tmp_path / "out")
    assert "no look called" in caught.value.errors["look"][0]
    assert not (tmp_path / "out").exists()


def test_letterbox_bars_fall_inside_the_visible_frame():
    look = looks.Look(name="Wide", letterbox=2.0)
    frames = np.full((2, 64, 64, 3), 200, np.uint8)
    out = look.apply(frames)
    assert (out[:, :16] == 0).all() and (out[:, 48:] == 0).all()
    assert (out[:, 17:47] == 200).all()
    # Scaled later to cover 128×64: the visible part is already 2:1, no bars.
    assert (look.apply(frames, output_size=(128, 64)) == 200).all()


def test_grain_repeats_with_the_seed_and_the_vignette_darkens_corners():
    look = looks.Look(name="Grainy", grain=0.2, vignette=0.8)
    frames = np.full((2, 32, 32, 3), 128, np.uint8)
    first, again = look.apply(frames, seed=1), look.apply(frames, seed=1)
    assert (first == again).all()
    assert not (first == look.apply(frames, seed=2)).all()
    smooth = looks.Look(name="Dark corners", vignette=0.8).apply(frames)
    assert smooth[:, 0, 0].mean() < smooth[:, 16, 16].mean() - 40


@pytest.mark.parametrize("name", list(looks.SHIPPED))
def test_every_shipped_look_changes_the_picture(name):
    frames = colourful()
    out = looks.from_settings(name, None).apply(frames, seed=1)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - frames).mean() > 2


def test_seventies_is_warm_and_faded_and_pastel_is_soft_and_light():
    frames = colourful()
    look = looks.from_settings("1970s film stock", None)
    seventies = look.apply(frames)
    assert seventies[..., 0].mean() > seventies[..., 2].mean() + 10
    # Faded: the grade alone (no grain, no vignette) leaves no true black.
    assert replace(look, grain=0.0, vignette=0.0).apply(frames).min() > 15
    pastel = looks.from_settings("Dreamy pastel", None).apply(frames)
    assert pastel.mean() > frames.mean() + 10
    assert saturation(pastel) < saturation(frames)
