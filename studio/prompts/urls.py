from __future__ import annotations

from django.urls import path

from studio.prompts import views

app_name = "prompts"

urlpatterns = [
    path("prompts/", views.library, name="library"),
    path("prompts/<int:prompt_id>/", views.prompt_detail, name="detail"),
    path(
        "prompts/<int:prompt_id>/restore/<int:number>/",
        views.prompt_restore_view,
        name="restore",
    ),
    path("prompts/<int:prompt_id>/delete/", views.prompt_delete_view, name="delete"),
    path(
        "prompts/<int:prompt_id>/favourite/", views.prompt_favourite, name="favourite"
    ),
    path("prompts/<int:prompt_id>/use/", views.prompt_use, name="use"),
    path("prompts/save/", views.prompt_quick_save, name="quick_save"),
    path(
        "prompts/save-clip/<uuid:generation_id>/",
        views.save_from_generation,
        name="save_from_generation",
    ),
    path("prompts/coach/", views.coach_panel, name="coach"),
    path("prompts/drafts/<uuid:project_id>/", views.draft_autosave, name="draft"),
    path("prompts/characters/", views.characters, name="characters"),
    path(
        "prompts/characters/<int:character_id>/",
        views.character_detail,
        name="character",
    ),
    path(
        "prompts/characters/<int:character_id>/delete/",
        views.character_delete,
        name="character_delete",
    ),
    path("prompts/lists/<int:list_id>/delete/", views.list_delete, name="list_delete"),
    path("prompts/styles/", views.styles, name="styles"),
    path("prompts/styles/looks/", views.look_import, name="look_import"),
    path(
        "prompts/styles/<int:style_id>/delete/", views.style_delete, name="style_delete"
    ),
    path("prompts/export/", views.export_download, name="export"),
    path("prompts/import/", views.import_upload, name="import"),
]
