from __future__ import annotations

from django.apps import AppConfig


class StoryboardsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio.storyboards"
    label = "storyboards"
