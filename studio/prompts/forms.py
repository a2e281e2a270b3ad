from __future__ import annotations

from typing import Any

from django import forms

from generation.specs import MAX_PROMPT_CHARS
from studio.prompts.models import Character, DirectorProfile
from studio.prompts.validation import (
    MAX_RATING,
    validate_character,
    validate_prompt,
    validate_style,
    validate_word_list,
)


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


class StyleForm(forms.Form):
    name = forms.CharField(max_length=80)
    snippet = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    negative_prompt = forms.CharField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        return _apply(self, *validate_style(data))


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
