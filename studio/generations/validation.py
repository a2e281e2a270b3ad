"""Checking generation settings before anything is queued.

The JSON API and the prompt form both end here, so a creator gets the same
message from either. Messages name the setting the way the page does.
"""

from __future__ import annotations

import secrets
from typing import Any

from generation import specs
from generation.adapters import available_models, refresh, validate_spec
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
}
API_FIELDS = set(API_NAMES.values()) | {"project"}
# Uploaded inputs, and the spec fields that name their stored files.
INPUT_FIELDS = {"image_path": "image", "video_path": "video"}


def model_names() -> list[str]:
    # Registered models may have changed since (the model page, the command).
    refresh()
    return [str(model["name"]) for model in available_models()]


def model_defaults(name: Any) -> dict[str, Any]:
    """The settings a model works best with, for values a request leaves out."""
    for model in available_models():
        if model["name"] == name:
            return dict(model.get("defaults") or {})  # type: ignore[call-overload]
    return {}


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


def _integer(value: Any, label: str, low: int, high: int, unit: str = "") -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{label} must be a whole number."]
    if not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        return [f"{label} must be between {low} and {high}{suffix}; got {value}."]
    return []


def _size(value: Any, label: str) -> list[str]:
    errors = _integer(value, label, specs.MIN_SIZE, specs.MAX_SIZE, "pixels")
    if not errors and value % 8:
        errors = [f"{label} must be a multiple of 8 pixels; got {value}."]
    return errors


def _number(value: Any, label: str, low: float, high: float) -> list[str]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return [f"{label} must be a number."]
    if not low <= value <= high:
        return [f"{label} must be between {low:g} and {high:g}; got {value:g}."]
    return []


def validate_settings(
    data: dict[str, Any],
    *,
    image_path: str = "",
    video_path: str = "",
    video_frames: int | None = None,
) -> tuple[GenerationSpec | None, Errors]:
    """Check settings given in the spec's own names; fill in defaults.

    Left-out values take the chosen model's defaults, then the spec's. A
    missing or null seed is drawn at random so that every clip records one.
    ``image_path`` and ``video_path`` name inputs already stored by
    ``studio.generations.uploads`` (never a path from the request);
    ``video_frames`` is how many frames the stored video holds.
    """
    defaults = GenerationSpec(prompt="")
    errors: Errors = {}
    preferred = model_defaults(data.get("model") or defaults.model)

    def get(name: str) -> Any:
        value = data.get(name)
        if value is None:
            return preferred.get(name, getattr(defaults, name))
        return value

    prompt, problems = _text(data.get("prompt"), "Prompt", required=True)
    if problems:
        errors["prompt"] = problems
    negative, problems = _text(
        data.get("negative_prompt"), "Negative prompt", required=False
    )
    if problems:
        errors["negative_prompt"] = problems

    model = get("model")
    models = model_names()
    if not isinstance(model, str) or model not in models:
        known = ", ".join(models) or "none"
        errors["model"] = [f"Unknown model {str(model)[:60]!r}; available: {known}."]

    checks = {
        "num_frames": _integer(
            get("num_frames"),
            "Frame count",
            specs.MIN_FRAMES,
            specs.MAX_FRAMES,
            "frames",
        ),
        "fps": _integer(get("fps"), "Frame rate", specs.MIN_FPS, specs.MAX_FPS, "fps"),
        "width": _size(get("width"), "Width"),
        "height": _size(get("height"), "Height"),
        "num_inference_steps": _integer(
            get("num_inference_steps"), "Steps", specs.MIN_STEPS, specs.MAX_STEPS
        ),
        "guidance_scale": _number(
            get("guidance_scale"), "Guidance", specs.MIN_GUIDANCE, specs.MAX_GUIDANCE
        ),
    }
    checks["strength"] = _number(
        get("strength"), "Strength", specs.MIN_STRENGTH, specs.MAX_STRENGTH
    )
    if video_frames is not None and isinstance(get("num_frames"), int):
        if video_frames < get("num_frames"):
            checks["video"] = [
                f"The video holds {video_frames} frames; the clip needs "
                f"{get('num_frames')}. Send a longer video or ask for fewer frames."
            ]
    seed = data.get("seed")
    if seed is None or seed == "":
        seed = random_seed()
    checks["seed"] = _integer(seed, "Seed", 0, specs.MAX_SEED)
    errors.update({name: problems for name, problems in checks.items() if problems})
    if errors:
        return None, errors

    spec = GenerationSpec(
        prompt=prompt,
        negative_prompt=negative,
        model=model,
        num_frames=get("num_frames"),
        fps=get("fps"),
        width=get("width"),
        height=get("height"),
        num_inference_steps=get("num_inference_steps"),
        guidance_scale=float(get("guidance_scale")),
        seed=seed,
        image_path=image_path,
        video_path=video_path,
        strength=float(get("strength")),
    )
    model_errors = validate_spec(spec)
    errors = {name: list(msgs) for name, msgs in model_errors.items() if msgs}
    return (None, errors) if errors else (spec, {})


def validate_api_settings(
    data: Any, **inputs: Any
) -> tuple[GenerationSpec | None, Errors]:
    """Check a JSON request body in the API's field names.

    ``inputs`` are :func:`validate_settings`' stored-upload arguments.
    """
    if not isinstance(data, dict):
        return None, {"__all__": ["Send a JSON object."]}
    unknown = sorted(str(key)[:40] for key in data if key not in API_FIELDS)
    if unknown:
        return None, {key: ["Unknown field."] for key in unknown[:20]}
    by_spec_name = {spec: data[api] for spec, api in API_NAMES.items() if api in data}
    spec, errors = validate_settings(by_spec_name, **inputs)
    names = {**API_NAMES, **INPUT_FIELDS}
    return spec, {names.get(name, name): msgs for name, msgs in errors.items()}
