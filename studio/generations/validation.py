"""Checking generation settings before anything is queued.

The studio checks the request's shape (text where text belongs, numbers where
numbers belong, known field names) and asks the engine for everything else:
each model's ranges, frame rule, sizes, defaults and the inputs it takes come
from :func:`generation.adapters.capabilities` and are checked by
:func:`generation.adapters.validate_spec`, whose sentences reach the creator
as they are. No bound of a setting is written down here.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from generation import specs
from generation.adapters import (
    UnknownModelError,
    available_models,
    capabilities,
    refresh,
    validate_spec,
)
from generation.capabilities import Capabilities
from generation.specs import GenerationSpec

Errors = dict[str, list[str]]

# The API's names for the spec's diffusers names.
API_NAMES = {
    "prompt": "prompt",
    "negative_prompt": "negative_prompt",
    "model": "model",
    "num_frames": "num_frames",
    "fps": "fps",
    "width": "width",
    "height": "height",
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
    "seed": "seed",
    "strength": "strength",
    "sound": "sound",
}
SPEC_NAMES = {api: spec for spec, api in API_NAMES.items()}
API_FIELDS = set(API_NAMES.values()) | {"project"}
# Settings the studio's own callers may give in place of ``num_frames``: the
# clip's length in seconds, turned into the model's nearest frame count.
DURATION = "duration"
# Uploaded inputs, and the spec fields that name their stored files.
INPUT_FIELDS = {"image_path": "image", "video_path": "video"}

_LABELS = {
    "num_frames": "Frame count",
    "fps": "Frame rate",
    "width": "Width",
    "height": "Height",
    "num_inference_steps": "Steps",
    "guidance_scale": "Guidance",
    "seed": "Seed",
    "strength": "Strength",
}
_WHOLE = ("num_frames", "fps", "width", "height", "num_inference_steps")
_REAL = ("guidance_scale", "strength")


def model_names() -> list[str]:
    # Registered models may have changed since (the model page, the command).
    refresh()
    return [str(model["name"]) for model in available_models()]


def model_capabilities(name: Any) -> Capabilities | None:
    """The engine's rules for the model called ``name``; None if there is none."""
    if not isinstance(name, str):
        return None
    try:
        return capabilities(name)
    except UnknownModelError:
        return None


def all_capabilities() -> dict[str, dict[str, Any]]:
    """Every usable model's rules, as ``GET /api/models`` reports them."""
    found = {}
    for name in model_names():
        caps = model_capabilities(name)
        if caps is not None:
            found[name] = caps.to_dict()
    return found


def frames_for(seconds: Decimal | float, fps: int, caps: Capabilities) -> int:
    """The frame count a clip of ``seconds`` at ``fps`` gets: the count the
    model makes nearest to seconds × fps. The prompt box (composer.js) snaps
    its duration with the same rule."""
    return caps.nearest_frames(Decimal(str(seconds)) * fps)


def random_seed() -> int:
    return secrets.randbelow(specs.MAX_SEED + 1)


def _text(value: Any, label: str, *, required: bool) -> tuple[str, list[str]]:
    if value is None:
        value = ""
    if not isinstance(value, str):
        return "", [f"{label} must be text."]
    value = value.strip()
    if required and not value:
        return "", [f"Describe the clip you want: {label.lower()} is empty."]
    if len(value) > specs.MAX_PROMPT_CHARS:
        return "", [
            f"{label} is {len(value):,} characters long; "
            f"keep it under {specs.MAX_PROMPT_CHARS:,}."
        ]
    return value, []


def _shape(name: str, value: Any) -> list[str]:
    """Whether ``value`` is the kind of thing the setting is; ranges are the
    engine's to check."""
    label = _LABELS[name]
    if name in _WHOLE or name == "seed":
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{label} must be a whole number."]
    elif isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{label} must be a number."]
    elif value != value or value in (float("inf"), float("-inf")):
        return [f"{label} must be a number."]
    return []


def check_sound(value: Any) -> tuple[dict[str, Any], list[str]]:
    """Sound settings in the API's shape, checked by the sound engine and
    written out in full; ``{}`` for none (null or left out: a silent clip)."""
    from studio.generations.sound import check

    checked, problem = check(value)
    return checked, [problem] if problem else []


def validate_settings(
    data: Mapping[str, Any],
    *,
    image_path: str = "",
    video_path: str = "",
    video_frames: int | None = None,
    task: str = "",
) -> tuple[GenerationSpec | None, Errors]:
    """Check settings given in the spec's own names; fill in defaults.

    Left-out values take the chosen model's defaults (its capabilities); a
    missing or null seed is drawn at random so that every clip records one.
    ``duration`` (seconds) may stand in for ``num_frames``: it becomes the
    model's nearest frame count at the clip's frame rate. ``image_path`` and
    ``video_path`` name inputs already stored by ``studio.generations.uploads``
    (never a path from the request); ``video_frames`` is how many frames the
    stored video holds. ``task`` is the spec's task: "extend" continues the
    finished clip at ``video_path`` (see ``generation_extend``).
    """
    errors: Errors = {}
    prompt, problems = _text(data.get("prompt"), "Prompt", required=True)
    if problems:
        errors["prompt"] = problems

    model = data.get("model")
    if model is None:
        model = GenerationSpec(prompt="").model
    names = model_names()
    caps = model_capabilities(model) if model in names else None
    if caps is None:
        known = ", ".join(names) or "none"
        errors["model"] = [f"Unknown model {str(model)[:60]!r}; available: {known}."]
        return None, errors
    defaults = {**GenerationSpec(prompt="").to_dict(), **caps.defaults()}

    def get(name: str) -> Any:
        value = data.get(name)
        return defaults.get(name) if value is None else value

    negative = data.get("negative_prompt")
    if negative is None:
        negative = caps.negative_prompt
    negative, problems = _text(negative, "Negative prompt", required=False)
    if problems:
        errors["negative_prompt"] = problems

    values: dict[str, Any] = {}
    for name in (*_WHOLE, *_REAL):
        values[name] = get(name)
    seed = data.get("seed")
    values["seed"] = random_seed() if seed is None or seed == "" else seed
    duration = data.get(DURATION)
    if duration is not None and data.get("num_frames") is None:
        values["num_frames"] = _duration_frames(duration, values["fps"], caps, errors)
    for name, value in values.items():
        if name not in errors and (problems := _shape(name, value)):
            errors[name] = problems
    sound, problems = check_sound(data.get("sound"))
    if problems:
        errors["sound"] = problems
    if errors:
        return None, errors

    spec = GenerationSpec(
        prompt=prompt,
        negative_prompt=negative,
        model=model,
        num_frames=values["num_frames"],
        fps=values["fps"],
        width=values["width"],
        height=values["height"],
        num_inference_steps=values["num_inference_steps"],
        guidance_scale=float(values["guidance_scale"]),
        seed=values["seed"],
        image_path=image_path,
        video_path=video_path,
        strength=float(values["strength"]),
        task=task,
        sound=sound,
    )
    errors = {name: list(msgs) for name, msgs in validate_spec(spec).items() if msgs}
    if not errors and video_frames is not None and video_frames < spec.num_frames:
        errors["video"] = [
            f"The video holds {video_frames} frames; the clip needs "
            f"{spec.num_frames}. Send a longer video or ask for fewer frames."
        ]
    return (None, errors) if errors else (spec, {})


def _duration_frames(
    duration: Any, fps: Any, caps: Capabilities, errors: Errors
) -> int | None:
    number = isinstance(duration, int | float | Decimal)
    if isinstance(duration, bool) or not number or not Decimal(duration).is_finite():
        errors["num_frames"] = ["Duration must be a number of seconds."]
        return None
    if not duration > 0:
        errors["num_frames"] = ["Give the clip a duration of more than 0 seconds."]
        return None
    if isinstance(fps, bool) or not isinstance(fps, int):
        return None  # the frame rate's own message says why
    return frames_for(duration, fps, caps)


def check_api_settings(
    data: Any, *, extra: frozenset[str] = frozenset(), **inputs: Any
) -> tuple[GenerationSpec | None, Errors]:
    """Check settings in the API's field names; errors in the same names.

    ``extra`` are further field names the caller handles itself (the API's
    ``project``); ``inputs`` are :func:`validate_settings`' stored-upload
    arguments.
    """
    if not isinstance(data, Mapping):
        return None, {"__all__": ["Send a JSON object."]}
    known = set(API_NAMES.values()) | {DURATION} | extra
    unknown = sorted(str(key)[:40] for key in data if key not in known)
    if unknown:
        return None, {key: ["Unknown field."] for key in unknown[:20]}
    by_spec_name = {SPEC_NAMES.get(key, key): value for key, value in data.items()}
    spec, errors = validate_settings(by_spec_name, **inputs)
    names = {**API_NAMES, **INPUT_FIELDS}
    return spec, {names.get(name, name): msgs for name, msgs in errors.items()}


def validate_api_settings(
    data: Any, **inputs: Any
) -> tuple[GenerationSpec | None, Errors]:
    """Check a JSON request body of ``POST /api/generations``.

    Kept for the API's view; :func:`studio.generations.services.submit`
    checks, expands and queues in one call.
    """
    if isinstance(data, Mapping) and DURATION in data:
        return None, {DURATION: ["Unknown field."]}
    return check_api_settings(data, extra=frozenset({"project"}), **inputs)
