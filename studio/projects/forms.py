from __future__ import annotations

from django import forms

from studio.projects.models import Project


class ProjectForm(forms.ModelForm):
    class Meta:
        model = Project
        fields = ("name", "description")
        widgets = {
            "name": forms.TextInput(
                attrs={"placeholder": "Spring campaign", "autofocus": True}
            ),
            "description": forms.Textarea(
                attrs={"rows": 3, "placeholder": "What is this project for?"}
            ),
        }
