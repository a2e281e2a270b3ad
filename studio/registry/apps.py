from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio.registry"
    label = "registry"
