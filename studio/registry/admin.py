from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest

from studio.registry.models import RegisteredModel
from studio.registry.services import (
    RegistryError,
    model_add,
    model_check_settings,
    registry_sync,
)


class RegisteredModelForm(forms.ModelForm):
    class Meta:
        model = RegisteredModel
        fields = ["name", "family", "task", "path", "options"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            # The same checks as `manage.py models add`.
            try:
                model_check_settings(
                    name=data["name"],
                    family=data["family"],
                    task=data["task"],
                    options=data.get("options"),
                )
            except RegistryError as error:
                raise forms.ValidationError(str(error)) from error
        return data


@admin.register(RegisteredModel)
class RegisteredModelAdmin(admin.ModelAdmin):
    form = RegisteredModelForm
    list_display = ("name", "family", "task", "path", "status", "reason")
    list_filter = ("family", "task", "status")
    search_fields = ("name", "path")
    readonly_fields = ("status", "reason", "created", "updated")

    def save_model(
        self, request: HttpRequest, obj: RegisteredModel, form: Any, change: bool
    ) -> None:
        if change and "name" in form.changed_data:
            RegisteredModel.objects.filter(pk=obj.pk).delete()
        saved = model_add(
            name=obj.name,
            family=obj.family,
            path=obj.path,
            task=obj.task,
            options=obj.options,
        )
        obj.pk, obj.status, obj.reason = saved.pk, saved.status, saved.reason
        if saved.reason:
            messages.warning(request, f"{saved.name} is unavailable: {saved.reason}")

    def delete_model(self, request: HttpRequest, obj: RegisteredModel) -> None:
        super().delete_model(request, obj)
        registry_sync()

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        registry_sync()
