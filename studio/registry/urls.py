from __future__ import annotations

from django.urls import path

from studio.registry import views

app_name = "registry"

urlpatterns = [
    path("models/", views.model_list, name="list"),
    path("models/reading/", views.model_reading, name="reading"),
]
