from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from studio.galleries.models import Gallery


class GalleryForm(forms.ModelForm):
    class Meta:
        model = Gallery
        fields = ["title", "description", "show_prompts"]
        labels = {"show_prompts": "Show prompts on share pages"}
        widgets = {
            "title": forms.TextInput(attrs={"placeholder": "e.g. Client picks"}),
            "description": forms.Textarea(attrs={"rows": 2}),
        }


class AddToGalleryForm(forms.Form):
    gallery = forms.ModelChoiceField(
        queryset=Gallery.objects.none(),
        required=False,
        empty_label="New gallery…",
        label="Gallery",
    )
    title = forms.CharField(
        max_length=120,
        required=False,
        label="New gallery's title",
        widget=forms.TextInput(attrs={"placeholder": "Title of a new gallery"}),
    )

    def __init__(self, *args: Any, galleries: QuerySet[Gallery], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["gallery"].queryset = galleries

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("gallery") and not (data.get("title") or "").strip():
            raise forms.ValidationError("Pick a gallery or name a new one.")
        return data
