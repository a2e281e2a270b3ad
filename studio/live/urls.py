from __future__ import annotations

from django.urls import path

from studio.live import views

app_name = "live"

urlpatterns = [
    path("live/", views.live_page, name="page"),
    path("projects/<uuid:project_id>/live/", views.project_live, name="project"),
]
