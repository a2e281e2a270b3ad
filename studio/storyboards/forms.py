from __future__ import annotations

from typing import Any

from django import forms

from generation import specs
from generation.sequence import shot_frames
from generation.specs import GenerationSpec
from studio.generations.validation import model_capabilities, model_names
from studio.storyboards.models import Shot, Storyboard
from studio.storyboards.script import MAX_SCRIPT_CHARS

MAX_SHOT_SECONDS = 30
# Storyboard field → the engine's name for it, and back.
ENGINE_FIELDS = {
    "fps": "fps",
    "width": "width",
    "height": "height",
    "steps": "num_inference_steps",
    "guidance": "guidance_scale",
}
FORM_FIELDS = {engine: name for name, engine in ENGINE_FIELDS.items()}


class StoryboardForm(forms.ModelForm):
    class Meta:
        model = Storyboard
        fields = [
            "title",
            "style",
            "style_preset",
            "negative_prompt",
            "model",
            "fps",
            "width",
            "height",
            "steps",
            "guidance",
            "transition",
            "burn_captions",
        ]
        labels = {
            "style": "Look for every shot",
            "negative_prompt": "Avoid in every shot",
            "burn_captions": "Burn captions into the video",
            "steps": "Steps per take",
        }

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from studio.prompts.services import styles_for

        self.fields["style_preset"].queryset = styles_for(user)
        self.fields["style_preset"].required = False
        names = model_names() or ["builtin"]
        self.fields["model"] = forms.ChoiceField(choices=[(n, n) for n in names])
        self.fields["fps"].widget.attrs.update(min=specs.MIN_FPS, max=specs.MAX_FPS)
        for name in ("width", "height"):
            self.fields[name].widget.attrs.update(
                min=specs.MIN_SIZE, max=specs.MAX_SIZE
            )

    def _check_with_model(self, data: dict[str, Any]) -> None:
        """The chosen model's own rules, in its words: the engine's check of
        a clip with these settings (frame rate, size, steps, guidance)."""
        rules = model_capabilities(data.get("model"))
        if rules is None:
            return
        values = {name: data.get(name) for name in ENGINE_FIELDS}
        if any(value is None for value in values.values()):
            return  # a field already refused says so itself
        spec = GenerationSpec(
            prompt="storyboard",
            model=data["model"],
            num_frames=rules.frames.default,
            **{ENGINE_FIELDS[name]: value for name, value in values.items()},
        )
        for field, messages in rules.check(spec).items():
            name = FORM_FIELDS.get(field)
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self._check_with_model(data)
        fps = data.get("fps")
        if fps and self.instance.pk:
            for shot in self.instance.shots.all():
                try:
                    shot_frames(shot.duration, fps)
                except ValueError:
                    self.add_error(
                        "fps",
                        f"Shot {shot.order} ({shot.duration:g} s) would not be a "
                        f"whole number of frames at {fps} fps.",
                    )
                    break
        return data


def check_duration(duration: float, fps: int) -> None:
    """Raise ValidationError unless the shot is whole frames within the bounds."""
    if not 0 < duration <= MAX_SHOT_SECONDS:
        raise forms.ValidationError(
            f"A shot lasts more than 0 and at most {MAX_SHOT_SECONDS} seconds."
        )
    try:
        frames = shot_frames(duration, fps)
    except ValueError as exc:
        step = 1 / fps
        raise forms.ValidationError(
            f"{exc} Use a multiple of {step:g} s at {fps} fps."
        ) from exc
    if not specs.MIN_FRAMES <= frames <= specs.MAX_FRAMES:
        low, high = specs.MIN_FRAMES / fps, specs.MAX_FRAMES / fps
        raise forms.ValidationError(
            f"At {fps} fps a shot lasts {low:g} to {high:g} s "
            f"({specs.MIN_FRAMES}–{specs.MAX_FRAMES} frames)."
        )


class ShotForm(forms.ModelForm):
    class Meta:
        model = Shot
        fields = [
            "kind",
            "prompt",
            "duration",
            "caption",
            "notes",
            "continue_from_previous",
            "voice_line",
            "voice_character",
            "voice_start",
        ]
        labels = {
            "kind": "Type",
            "duration": "Seconds",
            "caption": "Caption",
            "continue_from_previous": "Continue from the previous shot",
            "voice_line": "Spoken line",
            "voice_character": "Spoken by",
            "voice_start": "Starts at (s into the shot)",
        }
        help_texts = {
            "voice_line": "Voice-over or dialogue, heard when the sequence "
            "renders with voice on; the captions follow it.",
        }
        widgets = {
            "prompt": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 1}),
            "duration": forms.NumberInput(attrs={"step": "any", "min": 0}),
            "voice_line": forms.TextInput(
                attrs={"placeholder": "“We made it,” or a line of narration"}
            ),
            "voice_start": forms.NumberInput(attrs={"step": "0.1", "min": 0}),
        }

    def __init__(self, *args: Any, storyboard: Storyboard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storyboard = storyboard
        from studio.storyboards.services import continue_support

        supported, reason = continue_support(storyboard.model)
        if not supported:
            field = self.fields["continue_from_previous"]
            field.disabled = True
            field.help_text = reason
        from studio.prompts.models import Character

        # One voice per character: the creator's own characters speak.
        speaker = self.fields["voice_character"]
        speaker.queryset = Character.objects.filter(
            owner_id=storyboard.owner_id, kind=Character.Kind.CHARACTER
        )
        speaker.empty_label = "Narrator (voice-over)"
        self.fields["voice_start"].required = False

    def clean_voice_line(self) -> str:
        return " ".join(self.cleaned_data.get("voice_line", "").split())

    def clean_voice_start(self) -> float:
        start = self.cleaned_data.get("voice_start")
        if start is None:
            return 0.0
        if not 0 <= start <= MAX_SHOT_SECONDS:
            raise forms.ValidationError(
                "The line starts from 0 seconds into the shot, before it ends."
            )
        return start

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, duration = data.get("voice_start"), data.get("duration")
        if start is not None and duration is not None and start >= duration:
            self.add_error(
                "voice_start",
                f"The line starts {start:g} s in, but the shot lasts {duration:g} s: "
                "start it earlier.",
            )
        return data

    def clean_prompt(self) -> str:
        prompt = " ".join(self.cleaned_data["prompt"].split())
        if not prompt:
            raise forms.ValidationError("Describe the shot.")
        return prompt

    def clean_duration(self) -> float:
        duration = self.cleaned_data["duration"]
        check_duration(duration, self.storyboard.fps)
        return duration


class ScriptForm(forms.Form):
    script = forms.CharField(
        max_length=MAX_SCRIPT_CHARS,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": (
                    "A hawk circles above a green valley at dawn. "
                    "Mia looks up and smiles…"
                ),
            }
        ),
    )


class ChoiceForm(forms.Form):
    label = forms.CharField(max_length=80)
    target = forms.ModelChoiceField(queryset=Shot.objects.none())

    def __init__(self, *args: Any, storyboard: Storyboard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = storyboard.shots.all()


class SoundtrackForm(forms.Form):
    soundtrack = forms.FileField()
