from __future__ import annotations

from typing import Any

from django import forms

from generation import looks
from generation.looks import MAX_LUT_SIZE, MIN_LUT_SIZE
from generation.looks import SHIPPED as SHIPPED_LOOKS
from generation.specs import MAX_PROMPT_CHARS
from studio.prompts.models import MAX_DESCRIPTION_CHARS, Character, DirectorProfile
from studio.prompts.validation import (
    MAX_RATING,
    validate_character,
    validate_prompt,
    validate_style,
    validate_word_list,
)

# An imported colour table: a 65-point .cube is about 7 MB, so tables this
# size are 33 points or fewer, which is what grading tools export by default.
MAX_CUBE_UPLOAD = 2 * 1024 * 1024


def _apply(form: forms.Form, cleaned: dict, errors: dict) -> dict:
    for name, messages in errors.items():
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
    return cleaned


class PromptForm(forms.Form):
    title = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Untitled: named by its words"}),
    )
    text = forms.CharField(
        max_length=MAX_PROMPT_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "@mia walks through a {red|blue} door"}
        ),
        label="Prompt",
    )
    negative_prompt = forms.CharField(required=False, label="Negative prompt")
    tags = forms.CharField(
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "noir, city, night"}),
        help_text="Separate tags with commas.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    rating = forms.TypedChoiceField(
        choices=[(n, "★" * n or "unrated") for n in range(MAX_RATING + 1)],
        coerce=int,
        initial=0,
    )
    favourite = forms.BooleanField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        cleaned, errors = validate_prompt(
            {name: data.get(name) for name in self.fields}
        )
        return _apply(self, cleaned, errors)


class CharacterForm(forms.Form):
    name = forms.CharField(
        max_length=41, widget=forms.TextInput(attrs={"placeholder": "mia"})
    )
    kind = forms.ChoiceField(choices=Character.Kind.choices)
    description = forms.CharField(
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "placeholder": "a young woman in a red coat, short black hair",
            }
        )
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        return _apply(self, *validate_character(data))


class WordListForm(forms.Form):
    name = forms.CharField(
        max_length=41, widget=forms.TextInput(attrs={"placeholder": "animal"})
    )
    options = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "fox\nowl\nhare"}),
        help_text="One option per line.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        return _apply(self, *validate_word_list(data))


def _look_choices() -> list[tuple[str, str]]:
    return [("", "None: words only"), *((name, name) for name in SHIPPED_LOOKS)]


class StyleForm(forms.Form):
    name = forms.CharField(max_length=80)
    snippet = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    negative_prompt = forms.CharField(required=False)
    look = forms.ChoiceField(
        choices=_look_choices,
        required=False,
        help_text="The colour grade, grain and framing applied to every clip.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        cleaned = _apply(self, *validate_style(data))
        return {**cleaned, "look": data.get("look", "")}


class LookImportForm(forms.Form):
    """A .cube colour table, imported as a style of its own."""

    name = forms.CharField(max_length=80)
    snippet = forms.CharField(
        required=False,
        max_length=MAX_DESCRIPTION_CHARS,
        label="Prompt words (optional)",
        widget=forms.TextInput(attrs={"placeholder": "teal and orange grade"}),
    )
    cube = forms.FileField(
        label=".cube file",
        help_text=f"A 3D LUT (LUT_3D_SIZE {MIN_LUT_SIZE} to {MAX_LUT_SIZE}), "
        f"at most {MAX_CUBE_UPLOAD // 2**20} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".cube"}),
    )

    def clean_cube(self) -> bytes:
        upload = self.cleaned_data["cube"]
        if upload.size > MAX_CUBE_UPLOAD:
            raise forms.ValidationError(
                f"The .cube file is larger than {MAX_CUBE_UPLOAD // 2**20} MB; "
                "export the table at 33 or 65 points."
            )
        data = upload.read(MAX_CUBE_UPLOAD + 1)
        try:
            looks.parse_cube(looks.decode_cube(data))
        except looks.LookError as error:
            raise forms.ValidationError(str(error)) from None
        return data

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Name the look.")
        return name


class DirectorForm(forms.ModelForm):
    class Meta:
        model = DirectorProfile
        fields = ("camera", "pacing", "look", "negative_prompt")
        widgets = {
            "camera": forms.TextInput(attrs={"placeholder": "slow push-in, low angle"}),
            "pacing": forms.TextInput(attrs={"placeholder": "unhurried, long takes"}),
            "look": forms.TextInput(
                attrs={"placeholder": "warm tungsten light, 35mm grain"}
            ),
            "negative_prompt": forms.TextInput(attrs={"placeholder": "flicker, text"}),
        }


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A prompt library exported from the studio.")
