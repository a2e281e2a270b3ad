from __future__ import annotations

from django.apps import AppConfig


class GalleriesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio.galleries"
    label = "galleries"
