from __future__ import annotations

from django.apps import AppConfig


class PromptsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio.prompts"
    label = "prompts"
