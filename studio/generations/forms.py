from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings

from generation import specs
from generation.specs import GenerationSpec
from studio.generations.uploads import UploadError, store_image, store_video
from studio.generations.validation import model_names, validate_settings

FPS_CHOICES = [(8, "8 fps"), (12, "12 fps"), (16, "16 fps"), (24, "24 fps")]
ASPECTS = {
    "1:1": (1, 1),
    "16:9": (16, 9),
    "9:16": (9, 16),
    "4:3": (4, 3),
    "3:4": (3, 4),
}
# The short side of the frame, in pixels.
SIZES = {"64": "Tiny · 64 px", "128": "Small · 128 px", "256": "Medium · 256 px",
         "512": "Large · 512 px"}  # fmt: skip

# Which form field shows a spec field's problems.
FIELD_FOR = {
    "num_frames": "duration",
    "fps": "fps",
    "width": "size",
    "height": "size",
    "num_inference_steps": "steps",
    "guidance_scale": "guidance",
}


def frame_size(aspect: str, short_side: int) -> tuple[int, int]:
    """Width and height for an aspect ratio, both multiples of 8."""
    a, b = ASPECTS[aspect]
    long_side = round(short_side * max(a, b) / min(a, b) / 8) * 8
    return (long_side, short_side) if a >= b else (short_side, long_side)


def closest_preset(width: int, height: int) -> tuple[str, str]:
    """The aspect and size presets nearest to a given frame size."""
    ratio = width / height
    aspect = min(
        ASPECTS, key=lambda name: abs(ASPECTS[name][0] / ASPECTS[name][1] - ratio)
    )
    size = min(SIZES, key=lambda s: abs(int(s) - min(width, height)))
    return aspect, size


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
        min_value=Decimal("0.25"),
        max_value=Decimal("12"),
        decimal_places=3,
        initial=Decimal("2"),
        widget=forms.NumberInput(attrs={"step": "0.25"}),
        label="Duration (s)",
    )
    fps = forms.TypedChoiceField(
        choices=FPS_CHOICES, coerce=int, initial=8, label="Frame rate"
    )
    aspect = forms.ChoiceField(choices=[(a, a) for a in ASPECTS], initial="1:1")
    size = forms.ChoiceField(choices=list(SIZES.items()), initial="256")
    steps = forms.IntegerField(
        initial=20,
        widget=forms.NumberInput(
            attrs={"min": specs.MIN_STEPS, "max": specs.MAX_STEPS}
        ),
    )
    guidance = forms.FloatField(
        initial=5.0,
        widget=forms.NumberInput(
            attrs={"step": "0.5", "min": 0, "max": specs.MAX_GUIDANCE}
        ),
    )
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
        initial=0.7,
        label="Strength",
        help_text="Video→video: how much may change (1 = everything).",
        widget=forms.NumberInput(
            attrs={
                "step": "0.05",
                "min": specs.MIN_STRENGTH,
                "max": specs.MAX_STRENGTH,
            }
        ),
    )
    variations = forms.IntegerField(
        initial=1,
        min_value=1,
        max_value=settings.STUDIO_MAX_VARIATIONS,
        widget=forms.NumberInput(
            attrs={"min": 1, "max": settings.STUDIO_MAX_VARIATIONS}
        ),
    )

    def __init__(self, *args: Any, owner: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Uploads are stored under their owner's private media folder.
        self.owner = owner
        names = model_names()
        self.fields["model"].choices = [(name, name) for name in names]
        self.fields["model"].initial = (
            settings.STUDIO_DEFAULT_MODEL
            if settings.STUDIO_DEFAULT_MODEL in names
            else None
        )
        self.spec: GenerationSpec | None = None

    @classmethod
    def initial_from(
        cls, spec_data: dict[str, Any], *, keep_seed: bool
    ) -> dict[str, Any]:
        """Form values that reproduce a recorded spec."""
        spec = GenerationSpec.from_dict(spec_data)
        aspect, size = closest_preset(spec.width, spec.height)
        return {
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt,
            "model": spec.model,
            "duration": Decimal(spec.num_frames) / Decimal(spec.fps),
            "fps": spec.fps,
            "aspect": aspect,
            "size": size,
            "steps": spec.num_inference_steps,
            "guidance": spec.guidance_scale,
            "seed": spec.seed if keep_seed else None,
            "strength": spec.strength,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        frames = data["duration"] * data["fps"]
        if frames != int(frames):
            self.add_error(
                "duration",
                f"{data['duration']:g} s at {data['fps']} fps is {frames:g} frames; "
                "pick a duration that gives a whole number of frames.",
            )
            return data
        width, height = frame_size(data["aspect"], int(data["size"]))
        inputs = self._store_inputs(data)
        if inputs is None:
            return data
        spec, errors = validate_settings(
            {
                "prompt": data["prompt"],
                "negative_prompt": data["negative_prompt"],
                "model": data["model"],
                "num_frames": int(frames),
                "fps": data["fps"],
                "width": width,
                "height": height,
                "num_inference_steps": data["steps"],
                "guidance_scale": data["guidance"],
                "seed": data["seed"],
                "strength": data["strength"],
            },
            **inputs,
        )
        if errors:
            for key in ("image_path", "video_path"):
                if inputs.get(key):
                    Path(inputs[key]).unlink(missing_ok=True)
        for name, messages in errors.items():
            field = FIELD_FOR.get(name, name)
            for message in messages:
                if name == "num_frames":
                    message = (
                        f"{data['duration']:g} s at {data['fps']} fps is {int(frames)} "
                        f"frames; clips hold {specs.MIN_FRAMES}–{specs.MAX_FRAMES} frames."
                    )
                self.add_error(field if field in self.fields else None, message)
        self.spec = spec
        return data

    def _store_inputs(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """Check and store the uploads; None (with form errors) when refused."""
        inputs: dict[str, Any] = {}
        for field, store in (("image", store_image), ("video", store_video)):
            upload = data.get(field)
            if not upload:
                continue
            if self.owner is None:
                self.add_error(field, "Log in to upload files.")
                continue
            try:
                stored = store(upload, owner_id=self.owner.pk)
            except UploadError as error:
                self.add_error(field, str(error))
                continue
            inputs[f"{field}_path"] = str(stored.path)
            if field == "video":
                inputs["video_frames"] = stored.frames
        if self.errors:
            for key in ("image_path", "video_path"):
                if inputs.get(key):
                    Path(inputs[key]).unlink(missing_ok=True)
            return None
        return inputs


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
