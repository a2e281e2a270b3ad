from __future__ import annotations

from django.apps import AppConfig


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "studio.registry"
    label = "registry"

    def ready(self) -> None:
        # No database work here: the adapters ask this source when they need it.
        from generation import adapters
        from studio.registry.services import registry_refresh

        adapters.add_source(registry_refresh)
