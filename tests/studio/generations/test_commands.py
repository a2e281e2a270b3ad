from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from generation.adapters import register, unregister
from generation.encode import probe_video


@pytest.fixture
def tiny_model(tiny_adapter):
    register("tiny-test", lambda device: tiny_adapter)
    yield "tiny-test"
    unregister("tiny-test")


def test_generate_writes_the_clip_and_prints_its_path(tiny_model, tmp_path, capsys):
    out = tmp_path / "clip.mp4"
    call_command(
        "generate",
        "a red ball bouncing to the right",
        "--out", str(out), "--model", tiny_model, "--frames", "8", "--fps", "8",
        "--width", "64", "--height", "64", "--steps", "2", "--seed", "3",
    )  # fmt: skip
    captured = capsys.readouterr()
    assert captured.out.strip().splitlines()[-1] == str(out)
    assert "2/2" in captured.err  # the progress bar
    video = probe_video(out)
    assert video["frames"] == 8


def test_generate_signs_the_clip_with_content_credentials(tiny_model, tmp_path):
    from studio.lib.credentials import video_verdict

    out = tmp_path / "clip.mp4"
    call_command(
        "generate", "a blue box", "--out", str(out), "--model", tiny_model,
        "--frames", "8", "--width", "64", "--height", "64", "--steps", "1",
    )  # fmt: skip
    verdict = video_verdict(out)
    assert verdict.status == "valid"
    assert verdict.ai_generated


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--frames", "1000"], "--frames"),
        (["--width", "63"], "--width"),
        (["--model", "no-such-model"], "--model"),
        (["--guidance", "99"], "--guidance"),
        (["--out", "clip.gif"], "--out"),
    ],
)
def test_generate_refuses_bad_input_with_one_line(tmp_path, args, message):
    argv = ["a red ball", "--out", str(tmp_path / "clip.mp4"), *args]
    with pytest.raises(CommandError) as error:
        call_command("generate", *argv)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
