from __future__ import annotations

from django.urls import path

from studio.registry import views

app_name = "registry"

urlpatterns = [
    path("models/", views.model_list, name="list"),
    path("models/reading/", views.model_reading, name="reading"),
    path("models/builtin/knows/", views.model_knowledge, name="knowledge"),
    path(
        "models/builtin/knows/<slug:slug>.webp",
        views.knowledge_example,
        name="knowledge_example",
    ),
    path(
        "models/builtin/knows/try/<uuid:project_id>/",
        views.knowledge_try,
        name="knowledge_try",
    ),
]
