"""Model adapters: one small surface over every video model family.

An adapter wraps one loaded pipeline and exposes:

- ``name``, ``family``, ``device`` and ``native_size`` (width, height);
- ``validate(spec) -> dict[str, list[str]]``: creator-readable messages per
  field, empty when the spec suits the model;
- ``generate(spec, *, on_preview, should_stop) -> np.ndarray``: uint8 frames
  (T, H, W, 3) at the spec's width and height. ``on_preview(step, steps,
  frames)`` receives small uint8 frames after every denoising step;
  ``should_stop()`` is asked at the same point, and when it answers True the
  run stops there and raises :class:`~generation.specs.GenerationCancelled`.

Both hooks are driven from diffusers' ``callback_on_step_end`` only.

The registry maps a model name to a factory ``factory(device) -> adapter``.
Loading is slow and memory is scarce, so one adapter is kept loaded: asking
for another model unloads the previous one first.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from generation import specs
from generation.specs import GenerationSpec, ShouldStop

OnPreview = Callable[[int, int, np.ndarray], None]
Validator = Callable[[GenerationSpec], dict[str, list[str]]]


@runtime_checkable
class Adapter(Protocol):
    """What the service needs from a loaded model."""

    name: str
    family: str
    device: str
    native_size: tuple[int, int]

    def validate(self, spec: GenerationSpec) -> dict[str, list[str]]: ...

    def generate(
        self,
        spec: GenerationSpec,
        *,
        on_preview: OnPreview | None = None,
        should_stop: ShouldStop | None = None,
    ) -> np.ndarray: ...


AdapterFactory = Callable[[str], Adapter]


class UnknownModelError(LookupError):
    """Raised when no adapter is registered under a model name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"There is no model called {name!r}.")
        self.name = name


class InvalidSpecError(ValueError):
    """Raised when a spec does not suit the model; ``errors`` is per field."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(" ".join(m for msgs in errors.values() for m in msgs))


class ModelUnavailableError(RuntimeError):
    """Raised when a registered model cannot be loaded (e.g. no weights yet).

    The message is written for the creator.
    """


@dataclass(frozen=True)
class _Entry:
    name: str
    factory: AdapterFactory
    family: str
    description: str
    validate: Validator | None


def check_spec(spec: GenerationSpec) -> dict[str, list[str]]:
    """Check a spec against the bounds every model shares.

    Returns creator-readable messages per field (diffusers' argument names);
    an empty dict means the spec is within bounds.
    """
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    def whole(field: str, value: object, low: int, high: int, what: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            add(field, f"The {what} must be a whole number.")
        elif not low <= value <= high:
            add(field, f"The {what} must be between {low} and {high}.")

    if not isinstance(spec.prompt, str) or not spec.prompt.strip():
        add("prompt", "Describe the clip: the prompt is empty.")
    elif len(spec.prompt) > specs.MAX_PROMPT_CHARS:
        add("prompt", f"Keep the prompt under {specs.MAX_PROMPT_CHARS} characters.")
    if not isinstance(spec.negative_prompt, str):
        add("negative_prompt", "The negative prompt must be text.")
    elif len(spec.negative_prompt) > specs.MAX_PROMPT_CHARS:
        add(
            "negative_prompt",
            f"Keep the negative prompt under {specs.MAX_PROMPT_CHARS} characters.",
        )
    whole("num_frames", spec.num_frames, specs.MIN_FRAMES, specs.MAX_FRAMES,
          "number of frames")  # fmt: skip
    whole("fps", spec.fps, specs.MIN_FPS, specs.MAX_FPS, "frame rate")
    for field in ("width", "height"):
        value = getattr(spec, field)
        whole(field, value, specs.MIN_SIZE, specs.MAX_SIZE, field)
        if field not in errors and value % 2:
            add(field, f"The {field} must be an even number of pixels.")
    whole("num_inference_steps", spec.num_inference_steps, specs.MIN_STEPS,
          specs.MAX_STEPS, "number of steps")  # fmt: skip
    guidance = spec.guidance_scale
    if isinstance(guidance, bool) or not isinstance(guidance, int | float):
        add("guidance_scale", "The guidance must be a number.")
    elif not specs.MIN_GUIDANCE <= guidance <= specs.MAX_GUIDANCE:
        add(
            "guidance_scale",
            f"The guidance must be between {specs.MIN_GUIDANCE:g} and "
            f"{specs.MAX_GUIDANCE:g}.",
        )
    whole("seed", spec.seed, 0, specs.MAX_SEED, "seed")
    return errors


_lock = threading.RLock()
_registry: dict[str, _Entry] = {}
_loaded: tuple[str, str, Adapter] | None = None


def register(
    name: str,
    factory: AdapterFactory,
    *,
    family: str = "",
    description: str = "",
    validate: Validator | None = None,
) -> None:
    """Register ``factory(device) -> adapter`` under a model name.

    ``validate`` checks a spec against the model's own rules without loading
    it (see :func:`validate_spec`). Registering a name again replaces it and
    drops the loaded adapter if it was that model.
    """
    global _loaded
    with _lock:
        _registry[name] = _Entry(name, factory, family or name, description, validate)
        if _loaded is not None and _loaded[0] == name:
            _loaded = None


def unregister(name: str) -> None:
    """Forget a model name (and its loaded adapter, if loaded)."""
    global _loaded
    with _lock:
        _registry.pop(name, None)
        if _loaded is not None and _loaded[0] == name:
            _loaded = None


def available_models() -> list[dict[str, object]]:
    """Describe every registered model: name, family, description, loaded."""
    with _lock:
        loaded = _loaded[0] if _loaded else None
        return [
            {
                "name": entry.name,
                "family": entry.family,
                "description": entry.description,
                "loaded": entry.name == loaded,
            }
            for entry in sorted(_registry.values(), key=lambda e: e.name)
        ]


def validate_spec(spec: GenerationSpec) -> dict[str, list[str]]:
    """Check a spec before queueing it, without loading any model.

    Combines the shared bounds with the named model's own rules; an unknown
    model is reported under ``model``.
    """
    errors = check_spec(spec)
    with _lock:
        entry = _registry.get(spec.model)
    if entry is None:
        errors.setdefault("model", []).append(
            f"There is no model called {spec.model!r}."
        )
    elif entry.validate is not None and not errors:
        errors = entry.validate(spec)
    return errors


def get_adapter(name: str, device: str) -> Adapter:
    """Return the adapter for ``name`` on ``device``, loading it if needed.

    One adapter stays loaded; asking for a different model (or device)
    releases the previous one before loading. Raises
    :class:`UnknownModelError` for an unregistered name.
    """
    global _loaded
    with _lock:
        if _loaded is not None and _loaded[:2] == (name, device):
            return _loaded[2]
        entry = _registry.get(name)
        if entry is None:
            raise UnknownModelError(name)
        if _loaded is not None:
            _loaded = None
            _release_memory(device)
        adapter = entry.factory(device)
        _loaded = (name, device, adapter)
        return adapter


def unload() -> None:
    """Drop the loaded adapter so its memory can be reclaimed."""
    global _loaded
    with _lock:
        device = _loaded[1] if _loaded else "cpu"
        _loaded = None
        _release_memory(device)


def _release_memory(device: str) -> None:
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


def _builtin_factory(device: str) -> Adapter:
    from generation.adapters.builtin import BuiltinAdapter

    return BuiltinAdapter.load(device=device)


def _builtin_validate(spec: GenerationSpec) -> dict[str, list[str]]:
    from generation.adapters.builtin import validate

    return validate(spec)


register(
    "builtin",
    _builtin_factory,
    family="builtin",
    description="The small built-in model: simple shapes, colours, scenes and "
    "camera moves. Runs on any CPU.",
    validate=_builtin_validate,
)
