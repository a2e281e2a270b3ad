"""Shots → one sequence: cuts or crossfades, captions, and its sound.

Every shot keeps exactly ``round(duration * fps)`` frames, so the sequence is
exactly as long as its shots together; a crossfade dissolves across the cut
without shortening anything. Captions become a WebVTT sidecar and, when
asked, are burned into the frames. An uploaded soundtrack is decoded,
trimmed and faded to the video's length and muxed as AAC.

Sound settings (``generation.sound``) add generated sound of the same
length: music, effects read from the frames, and each shot's spoken line
at its moment. With an uploaded soundtrack the soundtrack is the music (the
composer stays silent) and effects and voices are mixed over it. A shot
with a spoken line is captioned by its words, as they are heard.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from generation import encode
from generation.specs import SequenceTask

TRANSITIONS = ("cut", "crossfade")
# A crossfade spans this long around each cut (seconds), less for short shots.
CROSSFADE_SECONDS = 0.5
AUDIO_RATE = encode.AUDIO_RATE
AUDIO_FADE_SECONDS = 1.0
AUDIO_SUFFIXES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".flac", ".opus")
MAX_SOUNDTRACK_BYTES = 20 * 1024 * 1024
MAX_SOUNDTRACK_SECONDS = 600.0


class SoundtrackError(ValueError):
    """An uploaded soundtrack the studio will not use; the message says why."""


@dataclass(frozen=True)
class ShotClip:
    """One shot of a sequence: its clip on disk, its length and its caption;
    its prompt and spoken line (``voice`` by ``character``, ``voice_start``
    seconds into the shot) for its sound."""

    path: Path
    duration: float
    caption: str = ""
    prompt: str = ""
    voice: str = ""
    character: str = ""
    voice_start: float = 0.0


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def shot_frames(duration: float, fps: int) -> int:
    """How many frames a shot of ``duration`` seconds has at ``fps``.

    Raises ValueError unless that is a whole, positive number of frames.
    """
    frames = duration * fps
    if frames < 1 or abs(frames - round(frames)) > 1e-6:
        raise ValueError(
            f"{duration:g} s at {fps} fps is {frames:g} frames; "
            "a shot needs a whole number of frames."
        )
    return round(frames)


def read_frames(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode every frame of a video as uint8 (T, H, W, 3)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    if not frames:
        raise ValueError(f"{Path(path).name} has no frames")
    return np.stack(frames)


def fit_frames(frames: np.ndarray, count: int, width: int, height: int) -> np.ndarray:
    """Resample a clip in time to ``count`` frames and in space to width×height.

    Time: frame i shows the source frame at the same relative moment, so a
    clip stretched or shortened keeps its motion's pace in proportion.
    """
    source = len(frames)
    picks = np.minimum((np.arange(count) * source) // count, source - 1)
    picked = frames[picks]
    if picked.shape[1:3] == (height, width):
        return np.ascontiguousarray(picked)
    return np.stack(
        [
            np.asarray(
                Image.fromarray(f).resize((width, height), Image.Resampling.BICUBIC)
            )
            for f in picked
        ]
    )


def crossfade(shots: Sequence[np.ndarray], frames: int) -> np.ndarray:
    """Join shots, dissolving over ``frames`` frames centred on every cut.

    The total frame count is the sum of the shots': before the cut the
    outgoing shot plays on under the incoming shot's first frame, after it
    the incoming shot plays on over the outgoing shot's last frame.
    """
    out = np.concatenate(shots).astype(np.float32)
    start = 0
    for left, right in zip(shots, shots[1:], strict=False):
        cut = start + len(left)
        half = min(frames // 2, len(left) // 2, len(right) // 2)
        for j in range(-half, half):
            alpha = (j + half + 0.5) / (2 * half)
            a = left[j] if j < 0 else left[-1]
            b = right[0] if j < 0 else right[j]
            out[cut + j] = (1 - alpha) * a + alpha * b
        start = cut
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def caption_cues(shots: Sequence[ShotClip]) -> list[Cue]:
    """One cue per captioned shot, from its first to its last moment."""
    cues, start = [], 0.0
    for shot in shots:
        end = start + shot.duration
        text = " ".join(shot.caption.split())
        if text:
            cues.append(Cue(start=start, end=end, text=text))
        start = end
    return cues


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def webvtt(cues: Sequence[Cue]) -> str:
    """A WebVTT document for the cues; text is escaped, never markup."""
    lines = ["WEBVTT", ""]
    for number, cue in enumerate(cues, 1):
        text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [
            str(number),
            f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}",
            text,
            "",
        ]
    return "\n".join(lines)


def write_webvtt(cues: Sequence[Cue], path: str | os.PathLike[str]) -> Path:
    """Write the cues as a WebVTT file; returns the path."""
    path = Path(path)
    path.write_text(webvtt(cues), encoding="utf-8")
    return path


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):
        return ImageFont.load_default()


def burn_caption(frames: np.ndarray, text: str) -> np.ndarray:
    """Draw ``text`` on every frame: white on a dark band along the bottom."""
    height, width = frames.shape[1:3]
    size = max(8, height // 14)
    font = _font(size)
    chars = max(8, int(width / (size * 0.55)))
    lines = textwrap.wrap(text, chars)[:3]
    if not lines:
        return frames
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    line_height = size + size // 3
    top = height - line_height * len(lines) - size // 2
    draw.rectangle((0, top - size // 4, width, height), fill=(0, 0, 0, 150))
    for n, line in enumerate(lines):
        left = max(2, (width - draw.textlength(line, font=font)) / 2)
        draw.text((left, top + n * line_height), line, font=font, fill="white")
    out = np.empty_like(frames)
    for i, frame in enumerate(frames):
        image = Image.fromarray(frame).convert("RGBA")
        out[i] = np.asarray(Image.alpha_composite(image, overlay).convert("RGB"))
    return out


def soundtrack_check(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = MAX_SOUNDTRACK_BYTES,
    max_seconds: float = MAX_SOUNDTRACK_SECONDS,
) -> float:
    """Check an uploaded soundtrack by decoding it; returns its length (s).

    Raises :class:`SoundtrackError` for a file too large, not audio, or too long.
    """
    path = Path(path)
    if path.stat().st_size > max_bytes:
        raise SoundtrackError(
            f"The soundtrack is larger than {max_bytes // (1024 * 1024)} MB."
        )
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise SoundtrackError(
            "Upload an audio file: MP3, WAV, M4A, AAC, OGG, FLAC or Opus."
        )
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise SoundtrackError(
                    "That file holds no sound; it is not an audio file."
                )
            stream = container.streams.audio[0]
            seconds = 0.0
            for frame in container.decode(stream):
                seconds += frame.samples / frame.sample_rate
                if seconds > max_seconds:
                    raise SoundtrackError(
                        f"The soundtrack is longer than {max_seconds / 60:g} minutes."
                    )
    except SoundtrackError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise SoundtrackError(
            "That file could not be read as audio: MP3, WAV, M4A, OGG or FLAC."
        ) from exc
    if seconds <= 0:
        raise SoundtrackError("The soundtrack is silent: it has no samples.")
    return seconds


def read_audio(
    path: str | os.PathLike[str], seconds: float, rate: int = AUDIO_RATE
) -> np.ndarray:
    """Decode the first ``seconds`` of a soundtrack as float32 stereo (2, N)
    at ``rate``."""
    wanted = round(seconds * rate)
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
    chunks, have = [], 0
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray())
                have += out.samples
            if have >= wanted:
                break
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray())
    audio = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0))
    audio = audio[:, :wanted].astype(np.float32)
    if audio.shape[1] < wanted:
        # A short soundtrack ends in silence rather than stretching.
        audio = np.pad(audio, ((0, 0), (0, wanted - audio.shape[1])))
    return audio


def fade(
    audio: np.ndarray, seconds: float = AUDIO_FADE_SECONDS, rate: int = AUDIO_RATE
) -> np.ndarray:
    """Fade in at the start and out at the end, each at most a quarter long."""
    length = audio.shape[1]
    ramp = min(round(seconds * rate), length // 4)
    if ramp < 1:
        return audio
    out = audio.copy()
    curve = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
    out[:, :ramp] *= curve
    out[:, length - ramp :] *= curve[::-1]
    return out


def write_sequence(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    fps: int,
    audio: np.ndarray | None = None,
    metadata: dict[str, str] | None = None,
    audio_rate: int = AUDIO_RATE,
) -> Path:
    """Write H.264 frames and, when given, float32 stereo audio as AAC."""
    return encode.write_video(
        frames, path, fps=fps, metadata=metadata, audio=audio, audio_rate=audio_rate
    )


@dataclass(frozen=True)
class SequenceResult:
    video_path: Path
    captions_path: Path
    poster_path: Path
    num_frames: int
    fps: int
    width: int
    height: int


OnShot = Callable[[int, int, np.ndarray], None]


def render_sequence(
    shots: Sequence[ShotClip],
    output_dir: str | os.PathLike[str],
    *,
    fps: int,
    width: int,
    height: int,
    transition: str = "cut",
    burn_captions: bool = False,
    soundtrack: str | os.PathLike[str] | None = None,
    metadata: dict[str, str] | None = None,
    on_shot: OnShot | None = None,
    should_stop: Callable[[], bool] | None = None,
    basename: str = "sequence",
    sound: dict[str, Any] | None = None,
    seed: int = 0,
) -> SequenceResult:
    """Render shots into ``<basename>.mp4``, ``.vtt`` and ``.jpg`` in output_dir.

    The video has exactly the sum of the shots' frame counts at ``fps``, and
    its audio, when it has any, exactly as long. ``sound`` is the sound
    settings in the API's shape (see :mod:`generation.sound`), ``seed`` makes
    the generated sound repeatable.
    ``on_shot(done, total, frames)`` hears about every shot prepared;
    ``should_stop`` is asked between shots and raises
    :class:`~generation.specs.GenerationCancelled` when it answers True.
    """
    from generation.specs import GenerationCancelled

    if not shots:
        raise ValueError("A sequence needs at least one shot.")
    if transition not in TRANSITIONS:
        raise ValueError(f"transition must be one of {TRANSITIONS}")
    if width % 2 or height % 2:
        raise ValueError(f"H.264 needs even dimensions, got {width}x{height}")
    prepared = []
    for n, shot in enumerate(shots, 1):
        if should_stop is not None and should_stop():
            raise GenerationCancelled
        count = shot_frames(shot.duration, fps)
        frames = fit_frames(read_frames(shot.path), count, width, height)
        prepared.append(frames)
        if on_shot is not None:
            on_shot(n, len(shots), frames)
    if transition == "crossfade" and len(prepared) > 1:
        video = crossfade(prepared, round(CROSSFADE_SECONDS * fps))
    else:
        video = np.concatenate(prepared)
    seconds = len(video) / fps
    audio, rate, spans = None, AUDIO_RATE, None
    if sound:
        audio, rate, spans = sequence_audio(
            shots, prepared, fps=fps, sound=sound, seed=seed, soundtrack=soundtrack
        )
    elif soundtrack:
        audio = fade(read_audio(soundtrack, seconds))
    cues = caption_cues(shots) if spans is None else spoken_cues(shots, spans)
    if burn_captions:
        for cue in cues:
            first, last = round(cue.start * fps), round(cue.end * fps)
            video[first:last] = burn_caption(video[first:last], cue.text)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = write_sequence(
        video,
        output_dir / f"{basename}.mp4",
        fps=fps,
        audio=audio,
        metadata=metadata,
        audio_rate=rate,
    )
    captions = write_webvtt(cues, output_dir / f"{basename}.vtt")
    poster = encode.write_poster(video, output_dir / f"{basename}.jpg", frame=0)
    return SequenceResult(
        video_path=path,
        captions_path=captions,
        poster_path=poster,
        num_frames=len(video),
        fps=fps,
        width=width,
        height=height,
    )


def sequence_audio(
    shots: Sequence[ShotClip],
    frames: Sequence[np.ndarray],
    *,
    fps: int,
    sound: dict[str, Any],
    seed: int,
    soundtrack: str | os.PathLike[str] | None = None,
    device: str = "cpu",
) -> tuple[np.ndarray, int, list[tuple[float, float, str]]]:
    """The sequence's generated sound, its rate, and the spoken spans.

    With a ``soundtrack`` the composer's music is off and the soundtrack,
    faded in and out, plays under the effects and voices.
    """
    import dataclasses

    from generation.clip_audio import fit_length, model_music, split_music_model
    from generation.sound import (
        SAMPLE_RATE,
        ShotSound,
        SoundSettings,
        VoiceLine,
        sequence_sound,
    )

    engine, model = split_music_model(sound)
    settings = SoundSettings.from_json(engine)
    by_model = bool(model) and settings.music and not soundtrack
    if soundtrack or by_model:
        settings = dataclasses.replace(settings, music=False)
    plan, start = [], 0.0
    for shot, pictures in zip(shots, frames, strict=True):
        line = " ".join(shot.voice.split())
        voice = None
        if line and settings.voice:
            voice = VoiceLine(line, character=shot.character, start=shot.voice_start)
        duration = len(pictures) / fps
        plan.append(
            ShotSound(shot.prompt or shot.caption, start, duration, pictures, voice)
        )
        start += duration
    seconds = sum(len(f) for f in frames) / fps
    result = sequence_sound(plan, fps, settings, seed, seconds)
    audio = fit_length(result.audio, seconds, SAMPLE_RATE)
    if soundtrack:
        music = fade(read_audio(soundtrack, seconds, SAMPLE_RATE), rate=SAMPLE_RATE)
        audio = np.clip(audio + music * settings.music_volume, -1.0, 1.0)
    elif by_model:
        text = settings.mood or " ".join(s.prompt or s.caption for s in shots)
        music = model_music(model, text[:2000], seconds, seed, device)
        peak = float(np.abs(music).max()) or 1.0
        audio = np.clip(audio + music * (0.5 * settings.music_volume / peak), -1, 1)
    spans = [(float(a), float(b), str(text)) for a, b, text in result.voice_spans]
    return audio.astype(np.float32), SAMPLE_RATE, spans


def spoken_cues(
    shots: Sequence[ShotClip], spans: Sequence[tuple[float, float, str]]
) -> list[Cue]:
    """Captions that follow the words: a shot with a spoken line is captioned
    by the spans spoken during it, any other shot by its caption."""
    cues, start = [], 0.0
    for shot in shots:
        end = start + shot.duration
        words = [s for s in spans if start <= s[0] < end] if shot.voice.strip() else []
        if words:
            cues += [
                Cue(start=a, end=max(a, b), text=" ".join(t.split()))
                for a, b, t in words
                if t.strip()
            ]
        elif text := " ".join(shot.caption.split()):
            cues.append(Cue(start=start, end=end, text=text))
        start = end
    return cues


def sequence_metadata(title: str, shots: int, extra: dict[str, Any]) -> dict[str, str]:
    """Container tags for a rendered sequence."""
    tags = {"title": title, "shots": str(shots), "ai_generated": "true"}
    tags.update({key: str(value) for key, value in extra.items()})
    return {key: value.replace("\x00", "") for key, value in tags.items()}


def _preview_frames(frames: np.ndarray, size: int = 64) -> np.ndarray:
    """At most 16 frames, the longer side ``size`` px: cheap to send live."""
    picks = np.linspace(0, len(frames) - 1, min(16, len(frames))).round().astype(int)
    height, width = frames.shape[1:3]
    scale = size / max(height, width)
    w, h = max(2, round(width * scale)), max(2, round(height * scale))
    return np.stack(
        [np.asarray(Image.fromarray(frames[i]).resize((w, h))) for i in picks]
    )


def run_sequence_task(
    task: SequenceTask,
    output_dir: Path,
    *,
    on_step: Callable[[Any], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    preview_format: str = "jpeg",
) -> Any:
    """The service's entry point for a :class:`SequenceTask`.

    Every prepared shot is reported to ``on_step`` as a step with a preview.
    Returns a :class:`~generation.specs.Result` with ``captions_path`` set.
    """
    import time

    from generation import previews
    from generation.specs import Result, StepEvent

    started = time.perf_counter()
    spec = task.spec
    shots = [
        ShotClip(
            Path(s.path),
            float(s.duration),
            s.caption,
            prompt=s.prompt,
            voice=s.voice,
            character=s.character,
            voice_start=float(s.voice_start),
        )
        for s in task.shots
    ]

    def on_shot(done: int, total: int, frames: np.ndarray) -> None:
        if on_step is None:
            return
        small = _preview_frames(frames)
        elapsed = time.perf_counter() - started
        on_step(
            StepEvent(
                step=done,
                steps=total,
                elapsed=elapsed,
                eta=elapsed / done * (total - done),
                preview=previews.encode_strip(small, format=preview_format),
                preview_format=preview_format,
                frames=len(small),
                width=small.shape[2],
                height=small.shape[1],
            )
        )

    metadata = sequence_metadata(
        spec.prompt or "Storyboard",
        len(shots),
        {
            "fps": spec.fps,
            "frames": sum(shot_frames(s.duration, spec.fps) for s in shots),
        },
    )
    result = render_sequence(
        shots,
        output_dir,
        fps=spec.fps,
        width=spec.width,
        height=spec.height,
        transition=task.transition,
        burn_captions=task.burn_captions,
        soundtrack=task.soundtrack or None,
        metadata=metadata,
        on_shot=on_shot,
        should_stop=should_stop,
        sound=task.sound or None,
        seed=spec.seed,
    )
    return Result(
        video_path=result.video_path,
        poster_path=result.poster_path,
        num_frames=result.num_frames,
        fps=result.fps,
        width=result.width,
        height=result.height,
        seed=spec.seed,
        seconds=time.perf_counter() - started,
        metadata=metadata,
        captions_path=result.captions_path,
    )
