from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings

from generation.capabilities import Capabilities
from generation.specs import GenerationSpec
from studio.generations import sound
from studio.generations.validation import (
    Errors,
    frames_for,
    model_capabilities,
    model_names,
)

# The prompt box's presets. Which of them a model can make, and the exact
# frame each gives, come from the model's capabilities (see model_presets).
FPS_PRESETS = (8, 12, 16, 24)
NATIVE = "native"
ASPECTS = {
    "1:1": (1, 1),
    "16:9": (16, 9),
    "9:16": (9, 16),
    "4:3": (4, 3),
    "3:4": (3, 4),
}
# The short side of the frame, in pixels.
SIZES = {64: "Tiny", 128: "Small", 256: "Medium", 512: "Large"}
# Longest clip the box takes, in seconds: past every model's frames at any
# rate, and a bound on the arithmetic a typed duration can ask for.
MAX_SECONDS = 3600

# Which form field shows a setting's problems (the API's names).
FIELD_FOR = {
    "num_frames": "duration",
    "width": "size",
    "height": "size",
    "__all__": None,
}


def _half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _ratio(aspect: str, caps: Capabilities) -> tuple[int, int]:
    if aspect == NATIVE:
        return caps.size.default_width, caps.size.default_height
    return ASPECTS[aspect]


def frame_size(aspect: str, short_side: int, caps: Capabilities) -> tuple[int, int]:
    """Width and height for an aspect ratio ("native": the model's default
    frame's) and a short side, both in the model's size multiple."""
    a, b = _ratio(aspect, caps)
    step = caps.size.multiple
    short = max(step, _half_up(short_side / step) * step)
    long_side = max(short, _half_up(short * max(a, b) / min(a, b) / step) * step)
    return (long_side, short) if a >= b else (short, long_side)


def fits(width: int, height: int, caps: Capabilities) -> bool:
    return all(caps.size.min <= side <= caps.size.max for side in (width, height))


def closest_preset(width: int, height: int, caps: Capabilities | None) -> str:
    """The aspect preset that gives a frame size: the model's own frame when
    it does, else the nearest ratio."""
    if caps is not None and frame_size(NATIVE, min(width, height), caps) == (
        width,
        height,
    ):
        return NATIVE
    ratio = width / height
    return min(
        ASPECTS, key=lambda name: abs(ASPECTS[name][0] / ASPECTS[name][1] - ratio)
    )


def default_short_side(caps: Capabilities) -> int:
    return min(caps.size.default_width, caps.size.default_height)


def size_choices(names: list[str]) -> list[int]:
    """The short sides the size menu lists: the presets and every model's own."""
    sides = set(SIZES)
    for name in names:
        if caps := model_capabilities(name):
            sides.add(default_short_side(caps))
    return sorted(sides)


def fps_choices(names: list[str]) -> list[int]:
    rates = set(FPS_PRESETS)
    for name in names:
        if caps := model_capabilities(name):
            rates.add(int(caps.fps.default))
    return sorted(rates)


def model_presets(caps: Capabilities, *, sides: list[int], rates: list[int]) -> dict:
    """What the prompt box offers for one model, beside its capabilities:
    the frame rates within its range and, per aspect, the short sides whose
    frame it can make with that frame's exact size."""
    sizes = {}
    for aspect in (NATIVE, *ASPECTS):
        sizes[aspect] = [
            [side, *frame]
            for side in sides
            if fits(*(frame := frame_size(aspect, side, caps)), caps)
        ]
    return {
        "fps": [rate for rate in rates if caps.fps.min <= rate <= caps.fps.max],
        "sizes": sizes,
        "default_short_side": default_short_side(caps),
        "takes_negative_prompt": caps.takes_negative_prompt,
    }


def composer_models(names: list[str]) -> dict[str, dict[str, Any]]:
    """Every model's capabilities and presets, for the page to embed as JSON."""
    sides, rates = size_choices(names), fps_choices(names)
    found = {}
    for name in names:
        if caps := model_capabilities(name):
            found[name] = {
                **caps.to_dict(),
                "presets": model_presets(caps, sides=sides, rates=rates),
            }
    return found


def seconds(frames: int, fps: int) -> Decimal:
    """A clip's length as the box shows it: three decimals at most."""
    exact = Decimal(frames) / Decimal(fps)
    return exact.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP).normalize()


class GenerationForm(forms.Form):
    prompt = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "placeholder": "a red ball bouncing to the right, slow push-in",
                "autofocus": True,
            }
        ),
        required=False,
    )
    negative_prompt = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "blurry, flicker"}),
        label="Negative prompt",
    )
    model = forms.ChoiceField(choices=[])
    duration = forms.DecimalField(
        min_value=Decimal("0.001"),
        max_value=MAX_SECONDS,
        max_digits=12,
        decimal_places=6,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
        label="Duration (s)",
    )
    fps = forms.IntegerField(label="Frame rate", widget=forms.Select)
    aspect = forms.ChoiceField(choices=[])
    size = forms.IntegerField(min_value=1, widget=forms.Select)
    steps = forms.IntegerField()
    guidance = forms.FloatField(widget=forms.NumberInput(attrs={"step": "0.5"}))
    seed = forms.IntegerField(
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "random"}),
        help_text="Leave empty for a random seed; every clip records its own.",
    )
    image = forms.FileField(
        required=False,
        label="Start image",
        help_text="For image→video models: the clip starts from it.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp"}
        ),
    )
    video = forms.FileField(
        required=False,
        label="Source video",
        help_text="For video→video models: the clip restyles it.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "video/mp4,video/webm,video/quicktime"}
        ),
    )
    strength = forms.FloatField(
        required=False,
        label="Strength",
        help_text="Video→video: how much may change (1 = everything).",
        widget=forms.NumberInput(attrs={"step": "0.05"}),
    )
    # The style preset whose look grades the clips (its words are already
    # in the prompt); set by the prompt box's style chips.
    style = forms.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput
    )
    variations = forms.IntegerField(
        label="Variations (seeds)",
        help_text="Clips of the same prompt, each with its own seed.",
        initial=1,
        min_value=1,
        max_value=settings.STUDIO_MAX_VARIATIONS,
        widget=forms.NumberInput(
            attrs={"min": 1, "max": settings.STUDIO_MAX_VARIATIONS}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The Sound panel: off unless the creator turns it on.
        self.fields.update(sound.sound_fields(voice=False))
        names = model_names()
        self.model_names = names
        fields = self.fields
        fields["model"].choices = [(name, name) for name in names]
        chosen = self.initial.get("model")
        if chosen not in names:
            chosen = settings.STUDIO_DEFAULT_MODEL
        fields["model"].initial = chosen if chosen in names else None
        caps = model_capabilities(chosen) if chosen in names else None
        self._offer(caps, names)
        if caps is not None:
            self._start_from(caps)
        # What clean() hands to the submit service.
        self.settings: dict[str, Any] = {}
        self.uploads: dict[str, Any] = {}

    def _offer(self, caps: Capabilities | None, names: list[str]) -> None:
        """The menus' options and the inputs' ranges, for the model the page
        opens with; the page's script follows the model select from there."""
        fields = self.fields
        # A recorded clip's own rate and size stay on offer when it is reused.
        rates = {*fps_choices(names), self.initial.get("fps")} - {None}
        sides = {*size_choices(names), self.initial.get("size")} - {None}
        fields["fps"].widget.choices = [(r, f"{r} fps") for r in sorted(rates)]
        fields["size"].widget.choices = [
            (side, f"{SIZES.get(side, 'Custom')} · {side} px") for side in sorted(sides)
        ]
        # The size menu shows the frame each choice makes.
        fields["aspect"].choices = [(NATIVE, "Model's own")] + [(a, a) for a in ASPECTS]
        if caps is None:
            return
        ranges = {"steps": caps.steps, "guidance": caps.guidance}
        if caps.strength is not None:
            ranges["strength"] = caps.strength
        for name, rule in ranges.items():
            fields[name].widget.attrs.update(min=f"{rule.min:g}", max=f"{rule.max:g}")

    def _start_from(self, caps: Capabilities) -> None:
        """Initial values: the model's own defaults."""
        defaults = {
            "duration": seconds(caps.frames.default, int(caps.fps.default)),
            "fps": int(caps.fps.default),
            "aspect": NATIVE,
            "size": default_short_side(caps),
            "steps": int(caps.steps.default),
            "guidance": caps.guidance.default,
            "negative_prompt": caps.negative_prompt,
            "strength": caps.strength.default if caps.strength else None,
        }
        for name, value in defaults.items():
            self.fields[name].initial = value

    @classmethod
    def initial_from(
        cls, spec_data: dict[str, Any], *, keep_seed: bool
    ) -> dict[str, Any]:
        """Form values that reproduce a recorded spec."""
        spec = GenerationSpec.from_dict(spec_data)
        caps = model_capabilities(spec.model)
        return {
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt,
            "model": spec.model,
            "duration": seconds(spec.num_frames, spec.fps),
            "fps": spec.fps,
            "aspect": closest_preset(spec.width, spec.height, caps),
            "size": min(spec.width, spec.height),
            "steps": spec.num_inference_steps,
            "guidance": spec.guidance_scale,
            "seed": spec.seed if keep_seed else None,
            "strength": spec.strength,
            **sound.initial_from(spec.sound),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        caps = model_capabilities(data["model"])
        if caps is None:
            self.add_error("model", "This model is no longer available.")
            return data
        # The same rules the prompt box follows as the creator types.
        num_frames = frames_for(data["duration"], data["fps"], caps)
        width, height = frame_size(data["aspect"], data["size"], caps)
        self.settings = {
            "prompt": data["prompt"],
            "negative_prompt": data["negative_prompt"],
            "model": data["model"],
            "num_frames": num_frames,
            "fps": data["fps"],
            "width": width,
            "height": height,
            "steps": data["steps"],
            "guidance": data["guidance"],
            "seed": data["seed"],
            "strength": data["strength"],
            "sound": sound.from_fields(data, voice=False),
        }
        self.uploads = {name: data.get(name) for name in ("image", "video")}
        return data

    @property
    def mood_line(self) -> str:
        """The Sound panel's line: what the composer plays for this prompt."""
        line = sound.mood_line(
            str(self["prompt"].value() or ""), self["sound_mood"].value() or None
        )
        return f"Music: {line}" if line else "Music: type a prompt to hear its mood"

    def add_submit_errors(self, errors: Errors) -> None:
        """Show what the submit service refused, each under its own field."""
        for name, messages in errors.items():
            field = FIELD_FOR.get(name, name)
            if field not in self.fields:
                field = None
            shown = self.errors.get(field or "__all__", [])
            for message in messages:
                if message not in shown:
                    self.add_error(field, message)

    def error_summary(self) -> list[tuple[str, str, str]]:
        """Every problem of the form as (field id, label, message), in the
        order the form shows them; the id is "" for the form as a whole."""
        found = [("", "", str(message)) for message in self.non_field_errors()]
        for bound in self:
            found += [
                (bound.id_for_label, str(bound.label), str(message))
                for message in bound.errors
            ]
        return found


# How many clips one bulk action may touch: a page of the Clips list and more.
MAX_BULK_CLIPS = 200


class ClipIdsField(forms.Field):
    """The ids of the ticked clips, each a UUID, at most MAX_BULK_CLIPS."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        if len(value) > MAX_BULK_CLIPS:
            raise forms.ValidationError(
                f"Pick at most {MAX_BULK_CLIPS} clips at a time.", code="too_many"
            )
        ids = []
        for item in value:
            try:
                ids.append(str(UUID(str(item))))
            except ValueError:
                raise forms.ValidationError(
                    "One of the picked clips is not a clip.", code="invalid"
                ) from None
        return list(dict.fromkeys(ids))


class BulkClipsForm(forms.Form):
    """One action on several clips of the Clips page."""

    ACTIONS = {
        "star": "Star",
        "unstar": "Unstar",
        "gallery": "Add to gallery",
        "download": "Download",
        "delete": "Delete",
    }

    clip = ClipIdsField(error_messages={"required": "Tick at least one clip first."})
    action = forms.ChoiceField(
        choices=ACTIONS.items(),
        error_messages={
            "invalid_choice": "Choose star, unstar, add, download or delete."
        },
    )
    gallery = forms.UUIDField(
        required=False, error_messages={"invalid": "Choose one of your galleries."}
    )
    # The Clips page's filters, to show the same list afterwards.
    query = forms.CharField(required=False, max_length=2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "gallery" and not data.get("gallery"):
            self.add_error("gallery", "Choose a gallery to add the clips to.")
        return data
