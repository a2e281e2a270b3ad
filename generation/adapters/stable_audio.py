"""Adapter for Stable Audio (diffusers' ``StableAudioPipeline``): text → audio.

A Stable Audio folder makes sound, not clips, so it never enters the video
registry of :mod:`generation.adapters` (and so never reaches a video model
picker). It keeps a small registry of its own, filled by the same sources
(the studio's model table) through :func:`register_folder`, and one loaded
audio model at a time (:func:`audio_adapter`).

The model's length limit comes from its configs: the transformer holds
``sample_size`` latent frames, each ``hop`` samples long (the product of the
audio VAE's downsampling ratios) at the VAE's ``sampling_rate``; the duration
conditioning (the projection model's ``max_value``) may narrow it further.

Use::

    adapter = audio_adapter("stable-audio", device="cuda")
    samples, rate = adapter.generate_audio("warm synth pads", 8.0, seed=7)
    # samples: float32 (2, round(8.0 * rate)), in [-1, 1] for a trained model
"""

from __future__ import annotations

import json
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generation import specs
from generation.adapters import InvalidSpecError, ModelUnavailableError, refresh
from generation.adapters.options import ModelOptions, apply_options
from generation.specs import GenerationCancelled, ShouldStop

FAMILY = "stableaudio"
LABEL = "Stable Audio"
KIND = "audio"
TASKS = ("t2a",)
CLASS_NAME = "StableAudioPipeline"
COMPONENTS = ("vae", "text_encoder", "projection_model", "tokenizer",
              "transformer", "scheduler")  # fmt: skip
STEPS, GUIDANCE = 100, 7.0
# A sound shorter than this is a click, not music or an ambience.
MIN_SECONDS = 0.1

OnProgress = Callable[[int, int], None]
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioLimits:
    """What a Stable Audio model makes: its sample rate and longest sound."""

    sample_rate: int
    max_seconds: float
    channels: int = 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "sample_rate": self.sample_rate,
            "max_seconds": self.max_seconds,
            "channels": self.channels,
            "min_seconds": MIN_SECONDS,
            "steps": {
                "min": specs.MIN_STEPS,
                "max": specs.MAX_STEPS,
                "default": STEPS,
            },  # fmt: skip
        }


def _limits(sample_size: int, hop: int, rate: int, max_value: float) -> AudioLimits:
    if sample_size <= 0 or hop <= 0 or rate <= 0:
        raise ValueError("The model's configs give no positive length or rate.")
    longest = sample_size * hop / rate
    if max_value > 0:
        longest = min(longest, float(max_value))
    # Whole milliseconds, rounded down, so the limit itself is always valid.
    return AudioLimits(sample_rate=rate, max_seconds=math.floor(longest * 1000) / 1000)


def _read_config(folder: Path, component: str) -> dict[str, Any]:
    return json.loads((folder / component / "config.json").read_text())


def folder_limits(path: str | os.PathLike[str]) -> AudioLimits:
    """The sample rate and longest sound of a saved folder, from its configs
    alone (no weights are read); ``ValueError``/``OSError`` when unreadable."""
    folder = Path(path)
    vae = _read_config(folder, "vae")
    transformer = _read_config(folder, "transformer")
    projection = _read_config(folder, "projection_model")
    hop = math.prod(int(r) for r in vae.get("downsampling_ratios", []))
    return _limits(
        int(transformer.get("sample_size", 0)),
        hop,
        int(vae.get("sampling_rate", 0)),
        float(projection.get("max_value", 0)),
    )


def is_stable_audio_folder(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` holds a ``model_index.json`` naming a StableAudioPipeline."""
    try:
        index = json.loads((Path(path) / "model_index.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(index, dict) and index.get("_class_name") == CLASS_NAME


def check_folder(path: str | os.PathLike[str]) -> str:
    """Why ``path`` is not a usable Stable Audio folder, in one sentence; ""
    when it looks fine. Reads ``model_index.json`` and the configs; loads no
    weights."""
    folder = Path(path)
    if not folder.is_dir():
        return f"The folder {path} does not exist."
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        return (
            f"{path} has no model_index.json; point at a Stable Audio folder "
            "saved with save_pretrained."
        )
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as error:
        return f"model_index.json cannot be read ({error})."
    class_name = str(index.get("_class_name", "")) if isinstance(index, dict) else ""
    if class_name != CLASS_NAME:
        return (
            f"The folder holds a {class_name or 'unknown'} pipeline, not a "
            f"{CLASS_NAME}."
        )
    for component in COMPONENTS:
        if not (folder / component).is_dir():
            return f"The folder lacks its {component} component."
    try:
        folder_limits(folder)
    except (OSError, ValueError, TypeError) as error:
        return f"The model's configs do not say how long a sound it makes ({error})."
    return ""


def check_request(
    prompt: object,
    seconds: object,
    seed: object,
    negative_prompt: object,
    steps: object,
    limits: AudioLimits,
) -> dict[str, list[str]]:
    """Creator-readable problems with an audio request, per field; empty when fine."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not isinstance(prompt, str) or not prompt.strip():
        add("prompt", "Describe the sound: the prompt is empty.")
    elif len(prompt) > specs.MAX_PROMPT_CHARS:
        add("prompt", f"Keep the prompt under {specs.MAX_PROMPT_CHARS} characters.")
    if not isinstance(negative_prompt, str):
        add("negative_prompt", "The negative prompt must be text.")
    elif len(negative_prompt) > specs.MAX_PROMPT_CHARS:
        add(
            "negative_prompt",
            f"Keep the negative prompt under {specs.MAX_PROMPT_CHARS} characters.",
        )
    if (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not math.isfinite(seconds)
    ):
        add("seconds", "The length must be a number of seconds.")
    elif not MIN_SECONDS <= seconds <= limits.max_seconds:
        add(
            "seconds",
            f"This model makes sounds from {MIN_SECONDS:g} to "
            f"{limits.max_seconds:g} seconds long; {seconds:g} seconds is "
            f"{'too long' if seconds > limits.max_seconds else 'too short'}.",
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        add("seed", "The seed must be a whole number.")
    elif not 0 <= seed <= specs.MAX_SEED:
        add("seed", f"The seed must be between 0 and {specs.MAX_SEED}.")
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int):
            add("steps", "The number of steps must be a whole number.")
        elif not specs.MIN_STEPS <= steps <= specs.MAX_STEPS:
            add(
                "steps",
                f"The number of steps must be between {specs.MIN_STEPS} and "
                f"{specs.MAX_STEPS}.",
            )
    return errors


def to_stereo(audio: np.ndarray, length: int) -> np.ndarray:
    """(channels, n) samples as float32 stereo of exactly ``length`` samples:
    mono is duplicated, extra channels dropped, the end trimmed or padded
    with silence."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[None]
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    audio = audio[:2, :length]
    if audio.shape[1] < length:
        audio = np.pad(audio, ((0, 0), (0, length - audio.shape[1])))
    return np.ascontiguousarray(audio)


class StableAudioAdapter:
    """Runs a loaded ``StableAudioPipeline``: :meth:`generate_audio`."""

    family = FAMILY
    kind = KIND
    label = LABEL

    def __init__(
        self,
        pipeline: Any,
        *,
        name: str,
        device: str = "cpu",
        options: ModelOptions | None = None,
    ) -> None:
        self.name = name
        self.device = device
        self.pipeline = apply_options(pipeline, options or ModelOptions(), device)
        vae = self.pipeline.vae
        self.limits = _limits(
            int(self.pipeline.transformer.config.sample_size),
            int(vae.hop_length),
            int(vae.config.sampling_rate),
            float(self.pipeline.projection_model.config.max_value),
        )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        name: str,
        device: str = "cpu",
        options: ModelOptions | None = None,
    ) -> StableAudioAdapter:
        """Load a Stable Audio folder saved with ``save_pretrained`` onto
        ``device``, in the options' dtype ("auto": bf16 on a GPU, fp32 on a
        CPU). ``ValueError`` when the folder is not one."""
        reason = check_folder(path)
        if reason:
            raise ValueError(reason)
        from diffusers import StableAudioPipeline

        options = options or ModelOptions()
        pipeline = StableAudioPipeline.from_pretrained(
            path, dtype=options.torch_dtype(device)
        )
        return cls(pipeline, name=name, device=device, options=options)

    @property
    def sample_rate(self) -> int:
        return self.limits.sample_rate

    @property
    def max_seconds(self) -> float:
        return self.limits.max_seconds

    @torch.inference_mode()
    def generate_audio(
        self,
        prompt: str,
        seconds: float,
        seed: int,
        *,
        negative_prompt: str = "",
        steps: int | None = None,
        on_progress: OnProgress | None = None,
        should_stop: ShouldStop | None = None,
    ) -> tuple[np.ndarray, int]:
        """Make ``seconds`` of sound for ``prompt``: (samples, sample rate).

        ``samples`` is float32 (2, round(seconds × rate)): stereo, exactly
        that long, the same for the same seed. ``steps`` defaults to
        :data:`STEPS`. ``on_progress(step, steps)`` hears every denoising
        step; when ``should_stop()`` answers True the run stops there and
        raises :class:`~generation.specs.GenerationCancelled`. Bad settings
        raise :class:`~generation.adapters.InvalidSpecError` (a ``ValueError``
        with a sentence per field in ``errors``).
        """
        errors = check_request(
            prompt, seconds, seed, negative_prompt, steps, self.limits
        )
        if errors:
            raise InvalidSpecError(errors)
        steps = STEPS if steps is None else steps
        if should_stop is not None and should_stop():
            raise GenerationCancelled

        def on_step(step: int, timestep: Any, latents: torch.Tensor) -> None:
            if should_stop is not None and should_stop():
                raise GenerationCancelled
            if on_progress is not None:
                on_progress(step + 1, steps)

        output = self.pipeline(
            prompt=prompt,
            negative_prompt=negative_prompt or None,
            audio_end_in_s=float(seconds),
            num_inference_steps=steps,
            guidance_scale=GUIDANCE,
            # A CPU generator gives the same sound for a seed on every device.
            generator=torch.Generator("cpu").manual_seed(seed),
            output_type="np",
            callback=on_step,
            callback_steps=1,
        )
        length = round(seconds * self.sample_rate)
        return to_stereo(output.audios[0], length), self.sample_rate


# The audio models the sources registered: name → (folder, options).
_lock = threading.RLock()
_folders: dict[str, tuple[str, ModelOptions]] = {}
_loaded: tuple[str, str, StableAudioAdapter] | None = None


def register_folder(
    name: str, *, path: str | os.PathLike[str], options: ModelOptions | None = None
) -> None:
    """Register a Stable Audio folder under ``name``; nothing is loaded yet.

    Registering a name again replaces it and drops it if it was loaded.
    """
    global _loaded
    with _lock:
        _folders[name] = (str(path), options or ModelOptions())
        if _loaded is not None and _loaded[0] == name:
            _loaded = None


def unregister(name: str) -> None:
    """Forget an audio model (and drop it if it was loaded)."""
    global _loaded
    with _lock:
        _folders.pop(name, None)
        if _loaded is not None and _loaded[0] == name:
            _loaded = None


def registered_names() -> list[str]:
    """The names of the registered audio models, sorted."""
    with _lock:
        return sorted(_folders)


def audio_adapter(name: str, device: str = "cpu") -> StableAudioAdapter:
    """The loaded audio model ``name`` on ``device``, loading it if needed.

    One audio model stays loaded (beside the video registry's one); asking
    for another releases the previous one first. Raises
    :class:`~generation.adapters.ModelUnavailableError` with a sentence when
    there is no such audio model or its folder cannot be loaded.
    """
    global _loaded
    with _lock:
        if _loaded is not None and _loaded[:2] == (name, device):
            return _loaded[2]
        known = name in _folders
    if not known:
        refresh()  # registered since by another process or the model page
    with _lock:
        if _loaded is not None and _loaded[:2] == (name, device):
            return _loaded[2]
        if name not in _folders:
            raise ModelUnavailableError(f"There is no audio model called {name!r}.")
        path, options = _folders[name]
        _loaded = None
        try:
            adapter = StableAudioAdapter.load(
                path, name=name, device=device, options=options
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.exception("loading the audio model %r from %s failed", name, path)
            raise ModelUnavailableError(
                f"The audio model {name!r} could not be loaded from its folder "
                f"({type(error).__name__}: {str(error)[:200]})."
            ) from error
        _loaded = (name, device, adapter)
        return adapter


def unload() -> None:
    """Drop the loaded audio model so its memory can be reclaimed."""
    global _loaded
    with _lock:
        _loaded = None
