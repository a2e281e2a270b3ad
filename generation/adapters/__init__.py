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

The registry maps a model name to a factory ``factory(device) -> adapter``
and to the model's :class:`~generation.capabilities.Capabilities` (see
:func:`capabilities`): the rules :func:`validate_spec` checks are the ones
:func:`available_models` reports.
Loading is slow and memory is scarce, so one adapter is kept loaded: asking
for another model unloads the previous one first.

Real models come from local diffusers folders: :func:`register_folder`
registers one under a family (:data:`FAMILIES`) and a task ("t2v", "i2v",
"v2v"). A *source* (see :func:`add_source`) is asked to (re)register models
by :func:`refresh`, e.g. the studio's model registry reading its table.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from generation import looks, specs
from generation.capabilities import Capabilities, shared
from generation.specs import GenerationSpec, ShouldStop

OnPreview = Callable[[int, int, np.ndarray], None]
Validator = Callable[[GenerationSpec], dict[str, list[str]]]
Source = Callable[[], None]

logger = logging.getLogger(__name__)

# Family name → the module holding its adapter.
FAMILIES = {
    "wan": "generation.adapters.wan",
    "ltx": "generation.adapters.ltx",
    "cogvideox": "generation.adapters.cogvideox",
    "hunyuan": "generation.adapters.hunyuan",
    "animatediff": "generation.adapters.animatediff",
    "skyreels": "generation.adapters.skyreels",
}


@runtime_checkable
class Adapter(Protocol):
    """What the service needs from a loaded model.

    ``generate`` returns uint8 frames (T, H, W, 3) at the spec's size, or at
    a smaller native size that the service scales to cover the spec's size
    while encoding.
    """

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
    defaults: dict[str, object]
    capabilities: Capabilities


def check_spec(spec: GenerationSpec) -> dict[str, list[str]]:
    """Check a spec against the bounds every model shares.

    Each model narrows these (see :func:`validate_spec`). Returns creator-readable messages per field (diffusers' argument names);
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
    strength = spec.strength
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        add("strength", "The strength must be a number.")
    elif not specs.MIN_STRENGTH <= strength <= specs.MAX_STRENGTH:
        add(
            "strength",
            f"The strength must be between {specs.MIN_STRENGTH:g} and "
            f"{specs.MAX_STRENGTH:g}.",
        )
    for field in ("image_path", "video_path"):
        if not isinstance(getattr(spec, field), str):
            add(field.removesuffix("_path"), f"The {field} must be text.")
    for message in looks.check(spec.look, spec.look_params):
        add("look", message)
    return errors


_lock = threading.RLock()
_registry: dict[str, _Entry] = {}
_loaded: tuple[str, str, Adapter] | None = None
_sources: list[Source] = []


def register(
    name: str,
    factory: AdapterFactory,
    *,
    family: str = "",
    description: str = "",
    validate: Validator | None = None,
    defaults: dict[str, object] | None = None,
    capabilities: Capabilities | None = None,
) -> None:
    """Register ``factory(device) -> adapter`` under a model name.

    ``capabilities`` are the model's rules, checked without loading it (see
    :func:`validate_spec`); a model registered without them gets the bounds
    every model shares. ``validate`` adds checks of its own on top;
    ``defaults`` (spec field names) override the capabilities' defaults for
    callers that leave settings out. Registering a name again replaces it and
    drops the loaded adapter if it was that model.
    """
    global _loaded
    family = family or name
    caps = capabilities or shared(family, name)
    with _lock:
        _registry[name] = _Entry(
            name,
            factory,
            family,
            description,
            validate,
            dict(caps.defaults() if defaults is None else defaults),
            caps,
        )
        if _loaded is not None and _loaded[0] == name:
            _loaded = None


def family_module(family: str) -> object:
    """The adapter module of a family; ``ValueError`` for an unknown one."""
    if family not in FAMILIES:
        raise ValueError(
            f"Unknown model family {family!r}; use one of {', '.join(FAMILIES)}."
        )
    return importlib.import_module(FAMILIES[family])


def register_folder(
    name: str,
    *,
    family: str,
    path: str | os.PathLike[str],
    task: str = "t2v",
    options: object = None,
    description: str = "",
    on_load_error: Callable[[str], None] | None = None,
) -> None:
    """Register a diffusers folder (or hub id) of ``family`` for ``task``.

    Nothing is loaded until the model is first used; ``options`` is a
    :class:`~generation.adapters.options.ModelOptions`. When loading fails,
    ``on_load_error(reason)`` hears why before :class:`ModelUnavailableError`
    is raised.
    """
    module: Any = family_module(family)
    if task not in module.TASKS:
        raise ValueError(f"{family} models do {', '.join(module.TASKS)}; not {task!r}.")
    adapter_class = next(
        value
        for key, value in vars(module).items()
        if key.endswith("Adapter") and getattr(value, "family", None) == family
    )

    def factory(device: str) -> Adapter:
        if not os.path.exists(path) and os.path.isabs(path):
            raise ModelUnavailableError(
                f"The folder of the model {name!r} is missing: {path}."
            )
        try:
            return adapter_class.load(
                path, name=name, task=task, device=device, options=options
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            # Whatever the folder is missing, the creator sees one sentence.
            logger.exception("loading the model %r from %s failed", name, path)
            reason = f"{type(error).__name__}: {str(error)[:200]}"
            if on_load_error is not None:
                on_load_error(reason)
            raise ModelUnavailableError(
                f"The model {name!r} could not be loaded from its folder ({reason})."
            ) from error

    register(
        name,
        factory,
        family=family,
        description=description,
        capabilities=module.capabilities(task),
    )


# The pipeline class name a family's folders are saved under starts with this.
CLASS_PREFIXES = {
    "wan": "Wan",
    "ltx": "LTX",
    "cogvideox": "CogVideoX",
    "hunyuan": "HunyuanVideo",
    "animatediff": "AnimateDiff",
    "skyreels": "SkyReelsV2DiffusionForcing",
}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def check_folder(family: str, path: str | os.PathLike[str]) -> str:
    """Why a model folder cannot be used, in one sentence; "" when it looks fine.

    Reads ``model_index.json`` and checks the pipeline class and that every
    component folder is there; loads no weights. A hub id ("org/name") is
    accepted unless the machine is offline.
    """
    if family not in FAMILIES:
        return f"Unknown family {family!r}."
    folder = Path(path)
    if not folder.exists():
        if HUB_ID.match(str(path)) and not os.path.isabs(path):
            if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
                return (
                    "This machine is offline (HF_HUB_OFFLINE) and the hub id "
                    "cannot be downloaded; save the model to a folder instead."
                )
            return ""
        return f"The folder {path} does not exist."
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        return (
            f"{path} has no model_index.json; point at a folder saved with "
            "save_pretrained."
        )
    try:
        index = json.loads(index_file.read_text())
    except (OSError, ValueError) as error:
        return f"model_index.json cannot be read ({error})."
    class_name = str(index.get("_class_name", ""))
    if not class_name.startswith(CLASS_PREFIXES[family]):
        return (
            f"The folder holds a {class_name or 'unknown'} pipeline, not a "
            f"{family} one."
        )
    for component, value in index.items():
        if component.startswith("_") or not isinstance(value, list):
            continue
        if value[0] is not None and not (folder / component).is_dir():
            return f"The folder lacks its {component} component."
    return ""


def add_source(source: Source) -> None:
    """Add a callable that (re)registers models whenever :func:`refresh` runs."""
    with _lock:
        if source not in _sources:
            _sources.append(source)


def refresh() -> None:
    """Ask every source to bring its models up to date.

    A failing source is logged and skipped: a broken registry entry must
    never stop the models that work.
    """
    with _lock:
        sources = list(_sources)
    for source in sources:
        try:
            source()
        except Exception:
            logger.exception("refreshing models from %r failed", source)


def is_registered(name: str) -> bool:
    with _lock:
        return name in _registry


def unregister(name: str) -> None:
    """Forget a model name (and its loaded adapter, if loaded)."""
    global _loaded
    with _lock:
        _registry.pop(name, None)
        if _loaded is not None and _loaded[0] == name:
            _loaded = None


def capabilities(name: str) -> Capabilities:
    """The rules of the model registered as ``name``: what it makes and takes.

    Raises :class:`UnknownModelError` for an unregistered name.
    """
    with _lock:
        entry = _registry.get(name)
    if entry is None:
        raise UnknownModelError(name)
    return entry.capabilities


def available_models() -> list[dict[str, object]]:
    """Describe every registered model: name, family, description, defaults,
    capabilities (:meth:`Capabilities.to_dict`), loaded."""
    with _lock:
        loaded = _loaded[0] if _loaded else None
        return [
            {
                "name": entry.name,
                "family": entry.family,
                "description": entry.description,
                "defaults": dict(entry.defaults),
                "capabilities": entry.capabilities.to_dict(),
                "loaded": entry.name == loaded,
            }
            for entry in sorted(_registry.values(), key=lambda e: e.name)
        ]


def validate_spec(spec: GenerationSpec) -> dict[str, list[str]]:
    """Check a spec before queueing it, without loading any model.

    Checks the spec against the named model's capabilities (and its own
    ``validate``, when it was registered with one); an unknown model is
    reported under ``model`` beside the bounds every model shares.
    """
    with _lock:
        entry = _registry.get(spec.model)
    if entry is None:
        errors = check_spec(spec)
        errors.setdefault("model", []).append(
            f"There is no model called {spec.model!r}."
        )
        return errors
    errors = entry.capabilities.check(spec)
    if entry.validate is not None and not errors:
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
        # Registered elsewhere since (another process, the model page): look again.
        refresh()
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
        # The model and every module imported so far live as long as the
        # process: out of the collector's way, a full collection no longer
        # scans them and stalls the server (and the clip) for a third of a
        # second (bench/gc_pause.py).
        gc.freeze()
        return adapter


def unload() -> None:
    """Drop the loaded adapter so its memory can be reclaimed."""
    global _loaded
    with _lock:
        device = _loaded[1] if _loaded else "cpu"
        _loaded = None
        _release_memory(device)


def _release_memory(device: str) -> None:
    # What the loaded model froze is collectable again, its cycles included.
    gc.unfreeze()
    gc.collect()
    if device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()


def _builtin_factory(device: str) -> Adapter:
    from generation.adapters.builtin import BuiltinAdapter

    return BuiltinAdapter.load(device=device)


def _register_builtin() -> None:
    from generation.adapters.builtin import capabilities as builtin_capabilities

    register(
        "builtin",
        _builtin_factory,
        family="builtin",
        description="The small built-in model: simple shapes, colours, scenes "
        "and camera moves, at any even size (it renders small and is scaled "
        "up). Runs on any CPU.",
        capabilities=builtin_capabilities(),
    )


_register_builtin()


def read_prompt(name: str, text: str) -> dict[str, object] | None:
    """What model ``name`` reads in ``text`` (see
    :func:`generation.builtin.reading.read_prompt`), or None for a model
    without a prompt reader, which today is every model but the built-in one."""
    if name != "builtin":
        return None
    from generation.builtin.reading import read_prompt as read_builtin

    return read_builtin(text)
