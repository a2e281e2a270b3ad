"""Sound in finished files: a clip's AAC track made from its frames and signed
with it, and a rendered sequence's music, effects and spoken lines, each as
long as the picture and each line heard when its shot starts."""

from __future__ import annotations

from dataclasses import replace

import av
import numpy as np
import pytest

from generation.adapters import get_adapter, register_folder, unregister
from generation.credentials import ClipSigner, ensure_credentials, verify_video
from generation.encode import write_video
from generation.sequence import ShotClip, render_sequence
from generation.service import GenerationService
from generation.sound import voice_available
from generation.specs import GenerationSpec
from generation.tiny_models import save_tiny

ALL_ON = {"music": True, "effects": True, "voice": True}


def streams(path) -> dict[str, float]:
    """Each stream's decoded length in seconds, by kind ("video", "audio")."""
    found = {}
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        rate = float(video.average_rate)
        frames = sum(1 for _ in container.decode(video))
        found["video"] = frames / rate
    with av.open(str(path)) as container:
        if container.streams.audio:
            audio = container.streams.audio[0]
            samples = sum(f.samples for f in container.decode(audio))
            found["audio"] = samples / audio.rate
            found["codec"] = audio.codec_context.name
    return found


def tone(path, seconds, rate=8000):
    """A WAV file holding a steady tone."""
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=rate)
        stream.layout = "mono"
        samples = np.sin(np.arange(int(seconds * rate)) / 4)
        pcm = (samples * 20000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = rate
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def decoded_audio(path) -> tuple[np.ndarray, int]:
    """The file's audio track as mono float samples, and its rate."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [f.to_ndarray().mean(axis=0) for f in container.decode(stream)]
        return np.concatenate(chunks), stream.rate


def onset(samples: np.ndarray, rate: int, after: float, threshold: float) -> float:
    """When the sound first rises above ``threshold`` at or after ``after`` s."""
    start = round(after * rate)
    loud = np.flatnonzero(np.abs(samples[start:]) > threshold)
    assert loud.size, "nothing is heard"
    return (start + int(loud[0])) / rate


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    return ensure_credentials(tmp_path_factory.mktemp("data") / "c2pa")


@pytest.fixture
def signing_service(tiny_adapter, credentials):
    service = GenerationService(
        store=None,  # run_spec renders in the calling thread: no queue
        sink=None,
        device="cpu",
        adapter_loader=lambda name, device: tiny_adapter,
        signer=ClipSigner(credentials),
    )
    yield service
    service.stop()


def test_a_clip_with_sound_carries_an_aac_track_as_long_as_its_frames(
    signing_service, spec, tmp_path
):
    sounding = replace(spec, num_frames=16, sound={"music": {"mood": "tense"}})
    result = signing_service.run_spec(sounding, tmp_path, basename="clip")
    found = streams(result.video_path)
    assert found["codec"] == "aac"
    assert found["video"] == pytest.approx(2.0)
    assert abs(found["audio"] - found["video"]) <= 1 / spec.fps
    samples, _ = decoded_audio(result.video_path)
    assert np.abs(samples).max() > 0.05  # music is heard, not silence


def test_a_clip_without_sound_has_no_audio_stream(signing_service, spec, tmp_path):
    result = signing_service.run_spec(spec, tmp_path, basename="clip")
    assert "audio" not in streams(result.video_path)


def test_the_credentials_are_signed_after_muxing_and_cover_the_audio(
    signing_service, spec, tmp_path, credentials
):
    sounding = replace(spec, num_frames=16, sound={"effects": False})
    path = signing_service.run_spec(sounding, tmp_path, basename="clip").video_path
    verdict = verify_video(path)
    assert verdict.status == "valid", verdict.message
    assert "audio" in streams(path)
    # Change one byte inside an audio packet: the signature no longer holds.
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        positions = [
            p.pos
            for p in container.demux(stream)
            if p.size > 32 and p.pos and p.pos > 0
        ]
    data = bytearray(path.read_bytes())
    middle = positions[len(positions) // 2] + 16
    data[middle] ^= 0xFF
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    assert verify_video(tampered).status == "invalid"


def solid(path, colour, frames, fps=8, size=(64, 48)):
    pixels = np.zeros((frames, size[1], size[0], 3), dtype=np.uint8)
    pixels[..., :] = colour
    return write_video(pixels, path, fps=fps)


@pytest.fixture
def spoken_shots(tmp_path):
    return [
        ShotClip(solid(tmp_path / "a.mp4", (200, 0, 0), 12), 1.5, "A quiet field"),
        ShotClip(
            solid(tmp_path / "b.mp4", (0, 200, 0), 16),
            2.0,
            "Mia looks up",
            prompt="Mia looks up at the sky",
            voice="Look, the sky is clearing.",
            character="mia",
            voice_start=0.25,
        ),
        ShotClip(solid(tmp_path / "c.mp4", (0, 0, 200), 8), 1.0, "The end"),
    ]


def test_espeak_ng_speaks_here():
    assert voice_available(), "install espeak-ng (Debian: apt-get install espeak-ng)"


def test_a_rendered_sequence_sounds_as_long_as_it_plays(tmp_path, spoken_shots):
    result = render_sequence(
        spoken_shots,
        tmp_path / "out",
        fps=8,
        width=64,
        height=48,
        sound={**ALL_ON, "music": {"mood": "calm"}},
        seed=3,
    )
    found = streams(result.video_path)
    assert found["codec"] == "aac"
    assert found["video"] == pytest.approx(4.5)
    assert abs(found["audio"] - found["video"]) <= 1 / 8


def test_a_spoken_line_starts_within_100_ms_of_its_moment_in_the_shot(
    tmp_path, spoken_shots
):
    voice_only = {"music": False, "effects": False, "voice": True}
    result = render_sequence(
        spoken_shots, tmp_path / "out", fps=8, width=64, height=48, sound=voice_only
    )
    samples, rate = decoded_audio(result.video_path)
    # Silence until the line: shot 2 starts at 1.5 s, its line 0.25 s later.
    heard = onset(samples, rate, 0.0, threshold=0.02)
    assert abs(heard - 1.75) <= 0.1
    assert np.abs(samples[: round(1.6 * rate)]).max() < 0.02


def test_the_captions_follow_the_spoken_words(tmp_path, spoken_shots):
    result = render_sequence(
        spoken_shots, tmp_path / "out", fps=8, width=64, height=48, sound=ALL_ON
    )
    vtt = result.captions_path.read_text()
    assert "A quiet field" in vtt and "The end" in vtt
    assert "Look, the sky is clearing." in vtt
    assert "Mia looks up" not in vtt  # the spoken line stands in for its caption
    spoken = vtt.split("Look, the sky is clearing.")[0].strip().splitlines()[-1]
    begins = spoken.split(" --> ")[0]
    assert begins.startswith("00:00:01.7")  # 1.5 s + 0.25 s, to a frame or so


def test_voice_off_keeps_the_shot_captions(tmp_path, spoken_shots):
    result = render_sequence(
        spoken_shots,
        tmp_path / "out",
        fps=8,
        width=64,
        height=48,
        sound={**ALL_ON, "voice": False},
    )
    vtt = result.captions_path.read_text()
    assert "Mia looks up" in vtt and "clearing" not in vtt


def test_an_uploaded_soundtrack_replaces_the_composer_under_the_voices(
    tmp_path, spoken_shots
):
    music = tone(tmp_path / "music.wav", 10.0)
    voice_only = {"music": True, "effects": False, "voice": True}
    result = render_sequence(
        spoken_shots,
        tmp_path / "out",
        fps=8,
        width=64,
        height=48,
        sound=voice_only,
        soundtrack=music,
    )
    samples, rate = decoded_audio(result.video_path)
    found = streams(result.video_path)
    assert abs(found["audio"] - found["video"]) <= 1 / 8
    # The soundtrack's tone plays from the first second, before any line.
    assert np.abs(samples[round(0.5 * rate) : round(1.0 * rate)]).max() > 0.05


def test_a_real_family_clip_gets_its_sound_too(credentials, tmp_path):
    """A Wan clip (tiny random weights, the real diffusers pipeline) carries
    the composer's music and the prompt's ambience at its own length: 4k+1
    frames at 16 fps."""
    name = "sound-wan"
    register_folder(name, family="wan", path=save_tiny("wan", tmp_path / "wan", "t2v"))
    service = GenerationService(
        store=None,
        sink=None,
        device="cpu",
        adapter_loader=lambda model, device: get_adapter(model, device),
        signer=ClipSigner(credentials),
    )
    try:
        wan = GenerationSpec(
            prompt="waves on a calm sea at night",
            model=name,
            num_frames=9,
            fps=16,
            width=64,
            height=64,
            num_inference_steps=2,
            seed=3,
            sound={"music": {"mood": "calm"}, "effects": True},
        )
        result = service.run_spec(wan, tmp_path / "clip", basename="clip")
    finally:
        service.stop()
        unregister(name)
    found = streams(result.video_path)
    assert found["codec"] == "aac"
    assert found["video"] == pytest.approx(9 / 16)
    assert abs(found["audio"] - found["video"]) <= 1 / 16
    samples, _ = decoded_audio(result.video_path)
    assert np.abs(samples).max() > 0.05
    assert verify_video(result.video_path).valid
