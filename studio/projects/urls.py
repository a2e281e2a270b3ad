from __future__ import annotations

from django.urls import path

from studio.projects import views

app_name = "projects"

urlpatterns = [
    path("", views.project_list, name="list"),
    path("projects/<uuid:project_id>/", views.project_detail, name="detail"),
    path("projects/<uuid:project_id>/edit/", views.project_edit, name="edit"),
    path("projects/<uuid:project_id>/archive/", views.project_archive, name="archive"),
    path(
        "projects/<uuid:project_id>/delete/", views.project_delete_view, name="delete"
    ),
    path(
        "projects/<uuid:project_id>/generate/", views.project_generate, name="generate"
    ),
]
