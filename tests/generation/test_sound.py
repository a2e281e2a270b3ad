"""The soundtrack: music from mood words, effects timed from the frames, voice,
ducking and the −16 LUFS mix. Real synthesis, real espeak-ng, real clips."""

from __future__ import annotations

import io
import wave

import numpy as np
import pyloudnorm
import pytest
import torch

from generation.builtin import world
from generation.sound import (
    MOODS,
    SAMPLE_RATE,
    ShotSound,
    SoundError,
    SoundSettings,
    VoiceLine,
    clip_sound,
    loudness,
    read_mood,
    sequence_sound,
    to_wav_bytes,
    voice_available,
    voice_for,
)
from generation.sound import effects as fx

FPS = 8


def rendered(scene="night", motion="still", camera="static", frames=16, seed=3):
    """A clip drawn by the built-in world itself (cheap, exact)."""
    params = world.ClipParams(
        scene,
        (world.ObjectParams("ball", "red", motion=motion),),
        camera=camera,
        seed=seed,
    )
    return world.render(params, frames, 32)


@pytest.fixture(scope="module")
def builtin_pipe():
    from generation.builtin.pipeline import BuiltinVideoPipeline

    return BuiltinVideoPipeline.from_pretrained()


def generate(pipe, prompt: str, frames: int = 16, seed: int = 1) -> np.ndarray:
    out = pipe(
        prompt,
        num_frames=frames,
        num_inference_steps=8,
        guidance_scale=5.0,
        generator=torch.Generator().manual_seed(seed),
        output_type="np",
    ).frames[0]
    return (out * 255).round().astype(np.uint8)


def envelope(x: np.ndarray, hop_s: float = 0.005) -> np.ndarray:
    mono = x.mean(axis=0) if x.ndim == 2 else x
    hop = int(hop_s * SAMPLE_RATE)
    k = len(mono) // hop
    return np.sqrt((mono[: k * hop].reshape(k, hop) ** 2).mean(axis=1))


def band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    mono = x.mean(axis=0) if x.ndim == 2 else x
    spectrum = np.fft.rfft(mono)
    f = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    spectrum[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spectrum, len(mono))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# ------------------------------------------------------------------ music


def test_mood_words_choose_tempo_mode_and_instruments():
    slow = read_mood("slow, contemplative shot of a lake")
    assert slow.pacing == "slow" and slow.tempo_bpm < 80
    assert slow.mode == "minor" and "pads" in slow.instruments
    assert slow.describe().startswith("slow · ") and "minor" in slow.describe()
    action = read_mood("dynamic action chase through the streets")
    assert action.pacing == "fast" and action.tempo_bpm >= 120
    assert "drums" in action.instruments
    assert action.tempo_bpm > slow.tempo_bpm
    joyful = read_mood("a joyful, bright morning")
    assert joyful.mode == "major"
    # Every named mood reads back as itself; the same words give the same plan.
    assert [read_mood(m).mood for m in MOODS] == list(MOODS)
    assert read_mood("tense night") == read_mood("tense night")


def test_same_seed_gives_the_same_samples_and_another_seed_differs():
    shots = [
        ShotSound("a red ball at night", 0.0, 2.0, rendered("night", "bounce")),
        ShotSound(
            "camera pans left at sea",
            2.0,
            2.0,
            rendered("sea", camera="pan-left"),
            VoiceLine("The tide is turning.", "Mia"),
        ),
    ]
    a = sequence_sound(shots, FPS, SoundSettings(), seed=11, seconds=4.0)
    b = sequence_sound(shots, FPS, SoundSettings(), seed=11, seconds=4.0)
    c = sequence_sound(shots, FPS, SoundSettings(), seed=12, seconds=4.0)
    assert a.audio.dtype == np.float32 and a.audio.shape == (2, 4 * SAMPLE_RATE)
    assert np.array_equal(a.audio, b.audio)
    assert not np.array_equal(a.audio, c.audio)
    assert rms(a.audio - c.audio) > 0.01


def test_phrases_start_on_the_cuts_and_the_music_fades_at_the_end():
    cuts = [0.0, 1.7, 4.1]
    shots = [
        ShotSound("dynamic action", cuts[0], 1.7),
        ShotSound("dynamic action", cuts[1], 2.4),
        ShotSound("dynamic action", cuts[2], 1.9),
    ]
    settings = SoundSettings(effects=False, voice=False)
    music = sequence_sound(shots, FPS, settings, seed=4, seconds=6.0).stems["music"]
    env = envelope(music)  # 5 ms hops
    for cut in cuts[1:]:
        i = int(round(cut / 0.005))
        before, after = env[i - 10 : i - 1].mean(), env[i : i + 10].max()
        assert after > 1.5 * before  # a downbeat (kick and cymbal) on the cut
    middle = rms(music[:, 2 * SAMPLE_RATE : 4 * SAMPLE_RATE])
    assert rms(music[:, -int(0.05 * SAMPLE_RATE) :]) < 0.05 * middle


# ---------------------------------------------------------------- effects


def bounce_frame(clip: np.ndarray) -> int:
    """The frame where the red ball is lowest between its fall and rise."""
    red = np.array(world.COLOURS["red"], np.float32)
    near = np.linalg.norm(clip.astype(np.float32) - red, axis=-1) < 60
    rows = np.arange(clip.shape[1])[None, :, None]
    cy = (near * rows).sum((1, 2)) / np.maximum(near.sum((1, 2)), 1)
    inner = [
        i
        for i in range(1, len(cy) - 1)
        if cy[i] >= cy[i - 1] and cy[i] >= cy[i + 1] and near[i].sum() > 0
    ]
    return max(inner, key=lambda i: cy[i])


def thump_onset(audio: np.ndarray) -> float:
    """When the low band first rises to half its peak (seconds)."""
    env = envelope(band(audio, 30, 250), 0.002)
    return float(np.flatnonzero(env >= 0.5 * env.max())[0] * 0.002)


def test_a_bounce_in_a_builtin_clip_gets_a_thump_within_one_frame(builtin_pipe):
    prompt = "a red ball bouncing up and down over a night sky, static camera"
    clip = generate(builtin_pipe, prompt)
    touch = bounce_frame(clip) / FPS
    settings = SoundSettings(music=False, voice=False)
    result = clip_sound(clip, FPS, prompt, settings, seed=2)
    assert abs(thump_onset(result.audio) - touch) <= 1 / FPS
    assert "ambience:night" in {name for _, name in result.events}

    still = generate(builtin_pipe, "a red ball staying still over a night sky")
    quiet = clip_sound(still, FPS, "a red ball at night", settings, seed=2)
    assert "bounce" not in {name for _, name in quiet.events}
    low = envelope(band(quiet.audio, 30, 250), 0.002)
    assert low.max() < 0.5 * envelope(band(result.audio, 30, 250), 0.002).max()


def test_a_bounce_measured_on_a_moving_camera_still_lands_on_its_frame():
    clip = rendered("field", "bounce", camera="push-in", frames=24)
    result = clip_sound(clip, FPS, "a ball in a field", SoundSettings(music=False), 5)
    assert abs(thump_onset(result.audio) - bounce_frame(clip) / FPS) <= 1 / FPS


def test_camera_moves_and_scenes_get_their_effects():
    def names(clip, prompt):
        result = clip_sound(clip, FPS, prompt, SoundSettings(music=False), 1)
        return [name for _, name in result.events]

    assert "swell" in names(rendered("day", camera="push-in"), "slow push-in")
    assert "whoosh" in names(rendered("sunset", camera="pan-right"), "pan right")
    assert names(rendered("sea"), "a ball at sea, static camera") == ["ambience:sea"]
    assert names(rendered("field"), "wind in a field") == ["ambience:field"]
    assert names(rendered("day"), "downtown city street") == ["ambience:city"]


def test_unknown_footage_gets_swells_where_its_motion_surges():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (1, 48, 64, 3), dtype=np.uint8)
    frames = np.repeat(base, 24, axis=0)
    frames[12:] = rng.integers(0, 255, (1, 48, 64, 3), dtype=np.uint8)  # a hard change
    result = clip_sound(frames, FPS, "", SoundSettings(music=False), 3)
    swells = [t for t, name in result.events if name == "swell"]
    assert swells and all(0.5 < t < 12 / FPS + 0.1 for t in swells)


# ------------------------------------------------------------------ voice


def test_lines_are_spoken_on_their_shot_in_the_speech_band():
    assert voice_available()
    shots = [
        ShotSound("a calm lake at dawn", 0.0, 3.0),
        ShotSound(
            "a calm lake at dawn",
            3.0,
            4.0,
            voice=VoiceLine("We came back every summer, didn't we?", "Mia"),
        ),
    ]
    result = sequence_sound(shots, FPS, SoundSettings(), seed=1, seconds=7.0)
    voice = result.stems["voice"]
    env = envelope(voice, 0.01)
    assert env.max() > 0.01
    onset = np.flatnonzero(env > 0.05 * env.max())[0] * 0.01
    assert abs(onset - 3.0) <= 0.1
    mono = voice.mean(axis=0)
    power = np.abs(np.fft.rfft(mono)) ** 2
    f = np.fft.rfftfreq(len(mono), 1 / SAMPLE_RATE)
    assert power[(f >= 100) & (f <= 4000)].sum() > 0.5 * power.sum()
    [(start, end, text)] = result.voice_spans
    assert abs(start - 3.0) <= 0.1 and 1.0 < end - start < 4.0
    assert text == "We came back every summer, didn't we?"
    assert [w for _, _, w in result.words] == text.split()
    assert all(start <= a < b <= end + 1e-6 for a, b, _ in result.words)

    music = result.stems["music"][:, : 7 * SAMPLE_RATE]
    during = music[:, int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]
    outside = music[:, int(0.3 * SAMPLE_RATE) : int(2.8 * SAMPLE_RATE)]
    assert rms(during) < 0.6 * rms(outside)


def test_each_character_keeps_one_voice():
    assert voice_for("Mia") == voice_for("  mia ")
    assert voice_for("") == voice_for("Narrator")
    voices = {voice_for(name) for name in ("Mia", "Tom", "Ada", "Rex", "Zoe", "Ben")}
    assert len(voices) >= 4


# -------------------------------------------------------------------- mix


def test_the_mix_is_at_minus_16_lufs_and_exactly_as_long_as_asked():
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    result = clip_sound(
        rendered("sea", "bounce"), FPS, "a ball at sea", SoundSettings(), 9
    )
    assert result.audio.shape == (2, 16 * SAMPLE_RATE // FPS)
    assert abs(meter.integrated_loudness(result.audio.T.astype(np.float64)) + 16) <= 1
    assert np.abs(result.audio).max() <= 10 ** (-1 / 20) + 1e-6
    odd = sequence_sound(
        [ShotSound("tense night", 0.0, 1.0)], FPS, SoundSettings(), 1, 10 / 3
    )
    assert odd.audio.shape == (2, round(10 / 3 * SAMPLE_RATE))
    assert abs(loudness(odd.audio) + 16) <= 1


def test_loudness_agrees_with_an_independent_meter():
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    rng = np.random.default_rng(0)
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    signals = [
        np.stack([0.1 * np.sin(2 * np.pi * 997 * t)] * 2),
        rng.standard_normal((2, len(t))) * 0.05 * (t > 1.5),
        np.stack(
            [0.3 * np.sin(2 * np.pi * 60 * t), 0.02 * rng.standard_normal(len(t))]
        ),
    ]
    for x in signals:
        assert abs(loudness(x) - meter.integrated_loudness(x.T)) < 0.1


def test_volumes_turn_layers_up_and_down():
    clip = rendered("night", "bounce")
    quiet = clip_sound(clip, FPS, "night", SoundSettings(music_volume=0.0), 3)
    assert rms(quiet.stems["music"]) == 0.0 and rms(quiet.stems["effects"]) > 0
    nothing = clip_sound(
        clip, FPS, "night", SoundSettings(music=False, effects=False), 3
    )
    assert nothing.plan is None and not nothing.audio.any()


def test_wav_bytes_play_back_as_16_bit_stereo():
    result = clip_sound(rendered(), FPS, "night", SoundSettings(), 1)
    with wave.open(io.BytesIO(to_wav_bytes(result.audio))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (2, 2, 48000)
        assert w.getnframes() == result.audio.shape[1]


# --------------------------------------------------------------- settings


def test_settings_round_trip_through_the_api_shape():
    value = {
        "music": {"mood": "Tense"},
        "effects": False,
        "voice": True,
        "volumes": {"music": 0.5, "effects": 2, "voice": 1.25},
    }
    settings = SoundSettings.from_json(value)
    assert settings.mood == "tense" and settings.effects is False
    assert settings.music_volume == 0.5 and settings.effects_volume == 2.0
    assert SoundSettings.from_json(settings.to_json()) == settings
    assert SoundSettings.from_json({}) == SoundSettings()
    assert SoundSettings.from_json({"music": False}).music is False


@pytest.mark.parametrize(
    "value",
    [
        "loud",
        {"music": "yes"},
        {"music": {"mood": "x" * 41}},
        {"music": {"mood": "<script>"}},
        {"music": {"tempo": 90}},
        {"volumes": {"music": 2.5}},
        {"volumes": {"voice": -1}},
        {"volumes": {"music": "max"}},
        {"volumes": [1, 2]},
        {"reverb": True},
    ],
)
def test_bad_settings_raise_a_sentence(value):
    with pytest.raises(SoundError) as caught:
        SoundSettings.from_json(value)
    message = str(caught.value)
    assert message[0].isupper() and message.endswith(".") and " " in message


def test_bad_requests_raise_a_sentence():
    clip = rendered()
    cases = [
        lambda: clip_sound(clip, 0, "night", SoundSettings(), 1),
        lambda: clip_sound(clip.astype(np.float32), FPS, "night", SoundSettings(), 1),
        lambda: sequence_sound([], FPS, SoundSettings(), 1, 0.0),
        lambda: sequence_sound([], FPS, SoundSettings(), 1, float("nan")),
        lambda: sequence_sound(
            [ShotSound("x", 0, 1, voice=VoiceLine("a" * 301))],
            FPS,
            SoundSettings(),
            1,
            1,
        ),
        lambda: sequence_sound([ShotSound("x", -1, 1)], FPS, SoundSettings(), 1, 1),
        lambda: SoundSettings(music_volume=3),
    ]
    for case in cases:
        with pytest.raises(SoundError) as caught:
            case()
        assert str(caught.value).endswith(".")


def test_shots_without_frames_still_get_their_scene_ambience():
    shots = [
        ShotSound("waves on the beach", 0.0, 2.0),
        ShotSound("a quiet street in the city", 2.0, 2.0),
    ]
    settings = SoundSettings(music=False, voice=False)
    result = sequence_sound(shots, FPS, settings, seed=1, seconds=4.0)
    assert result.events == [(0.0, "ambience:sea"), (2.0, "ambience:city")]
    effects = result.stems["effects"]
    assert rms(effects[:, :SAMPLE_RATE]) > 0 and rms(effects[:, -SAMPLE_RATE:]) > 0
    # The city's hum sits low; the sea's wash is broad.
    city = band(effects[:, 3 * SAMPLE_RATE :], 40, 160)
    sea = band(effects[:, :SAMPLE_RATE], 40, 160)
    assert rms(city) > rms(sea)


def test_the_music_plays_harder_under_a_fast_shot_than_a_slow_one():
    shots = [
        ShotSound("a slow, gentle drift", 0.0, 3.0),
        ShotSound("a fast, dynamic chase", 3.0, 3.0),
    ]
    settings = SoundSettings(mood="calm", effects=False, voice=False)
    result = sequence_sound(shots, FPS, settings, seed=2, seconds=6.0)
    assert result.plan.mood == "calm"
    music = result.stems["music"]
    slow = rms(music[:, int(0.5 * SAMPLE_RATE) : int(2.8 * SAMPLE_RATE)])
    fast = rms(music[:, int(3.2 * SAMPLE_RATE) : int(4.0 * SAMPLE_RATE)])
    assert fast > 1.2 * slow


def test_a_builtin_scene_the_prompt_leaves_out_is_heard_from_its_colours():
    settings = SoundSettings(music=False, voice=False)
    for scene in world.SCENES:
        clip = rendered(scene, "bounce", seed=21)
        result = clip_sound(clip, FPS, "a red ball bouncing", settings, 1)
        heard = fx.WORLD_AMBIENCE.get(scene, scene)  # the valley's wind, the city
        assert f"ambience:{heard}" in [name for _, name in result.events]
    noise = np.random.default_rng(0).integers(0, 255, (8, 32, 32, 3), dtype=np.uint8)
    result = clip_sound(noise, FPS, "something", settings, 1)
    assert not [name for _, name in result.events if name.startswith("ambience")]
