from __future__ import annotations

from django import forms

EXPIRY_CHOICES = [
    ("", "Never expires"),
    ("1", "Expires in 1 hour"),
    ("24", "Expires in 1 day"),
    ("168", "Expires in 7 days"),
    ("720", "Expires in 30 days"),
]


class ShareLinkForm(forms.Form):
    label = forms.CharField(
        max_length=100,
        required=False,
        label="For",
        widget=forms.TextInput(attrs={"placeholder": "Who is it for? (optional)"}),
    )
    expires_in_hours = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label="Expiry",
    )
