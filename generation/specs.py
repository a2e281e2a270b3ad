"""What goes into the generation service and what comes out of it.

These dataclasses are the whole contract between ``generation/`` and whoever
drives it (the studio, the ``generate`` command, the benchmarks). Field names
follow diffusers' argument names where one exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Bounds every caller shares and the service can encode; each model family
# narrows them in its capabilities (generation/capabilities.py).
MAX_PROMPT_CHARS = 2000
MIN_FRAMES, MAX_FRAMES = 8, 48
MIN_FPS, MAX_FPS = 4, 30
MIN_SIZE, MAX_SIZE = 64, 1024
MIN_STEPS, MAX_STEPS = 1, 100
MIN_GUIDANCE, MAX_GUIDANCE = 0.0, 20.0
MAX_SEED = 2**32 - 1
MIN_STRENGTH, MAX_STRENGTH = 0.05, 1.0
# The one task a spec names itself; every other task is the model's own.
EXTEND = "extend"
TASKS = ("", EXTEND)
# How long an extension may be, before each model's frame rule has its say.
MIN_EXTEND_SECONDS, MAX_EXTEND_SECONDS = 0.5, 10.0


@dataclass(frozen=True)
class GenerationSpec:
    """Everything needed to render one clip, in diffusers' argument names.

    ``width``/``height`` are the size of the written video; a model with a
    smaller native resolution renders natively and upscales smoothly.
    ``image_path`` (image→video) and ``video_path`` (video→video) name
    conditioning files already checked and re-encoded; ``strength`` is how
    much of the video a video→video model may change (1.0: all of it).

    ``task`` is empty for what the model does by itself, or ``"extend"``:
    continue the finished clip in ``video_path`` from its last frames with
    ``num_frames`` new frames that play right after it (the clip made is the
    continuation alone).
    """

    prompt: str
    negative_prompt: str = ""
    model: str = "builtin"
    num_frames: int = 16
    fps: int = 8
    width: int = 256
    height: int = 256
    num_inference_steps: int = 20
    guidance_scale: float = 5.0
    seed: int = 0
    image_path: str = ""
    video_path: str = ""
    strength: float = 0.7
    task: str = ""
    # A look applied to the finished frames and previews (generation/looks.py):
    # its name, and its parameters as the caller resolved them.
    look: str = ""
    look_params: dict[str, Any] = field(default_factory=dict)
    # Sound settings in the API's shape (generation.sound.SoundSettings'
    # JSON); empty: a silent clip.
    sound: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenerationSpec:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class StepEvent:
    """Progress after one denoising step, with a preview of every frame.

    ``preview`` is one encoded image holding all ``frames`` frames side by side
    (a horizontal strip: frame i occupies x in [i*width, (i+1)*width)).
    """

    step: int
    steps: int
    elapsed: float
    eta: float
    preview: bytes | None = None
    preview_format: str = "jpeg"
    frames: int = 0
    width: int = 0
    height: int = 0
    layout: str = "strip"


@dataclass(frozen=True)
class Result:
    """A finished clip on disk."""

    video_path: Path
    poster_path: Path
    num_frames: int
    fps: int
    width: int
    height: int
    seed: int
    seconds: float
    metadata: dict[str, str] = field(default_factory=dict)
    # A WebVTT sidecar, for jobs that write one (a rendered sequence).
    captions_path: Path | None = None


@dataclass(frozen=True)
class ShotPlan:
    """One finished shot of a sequence: its clip, how long it plays, its
    caption; and what is said over it: ``voice`` spoken by ``character``
    (empty: the narrator) ``voice_start`` seconds after the shot begins."""

    path: str
    duration: float
    caption: str = ""
    prompt: str = ""
    voice: str = ""
    character: str = ""
    voice_start: float = 0.0


@dataclass(frozen=True)
class SequenceTask:
    """A job that calls no model: join finished shots into one video.

    ``spec`` carries the sequence's fps, size, prompt (its title) and seed;
    ``soundtrack`` is an audio file's path, or empty; ``sound`` the sound
    settings in the API's shape (empty: no generated sound).
    """

    spec: GenerationSpec
    shots: tuple[ShotPlan, ...]
    transition: str = "cut"
    burn_captions: bool = False
    soundtrack: str = ""
    sound: dict[str, Any] = field(default_factory=dict)


class GenerationCancelled(Exception):
    """Raised inside a run when its ``should_stop`` hook answered True."""


OnStep = Callable[[StepEvent], None]
ShouldStop = Callable[[], bool]
