from __future__ import annotations

from django.urls import path

from studio.api.views import api_schema
from studio.generations import sound_views, views

app_name = "generations"

urlpatterns = [
    path("clips/", views.clip_list, name="list"),
    path("clips/bulk/", views.clip_bulk, name="bulk"),
    path("clips/queue/", views.queue_badge, name="queue"),
    path("clips/cancel/", views.clips_cancel_all, name="cancel_all"),
    path("generations/<uuid:generation_id>/", views.generation_detail, name="detail"),
    path(
        "generations/<uuid:generation_id>/cancel/",
        views.generation_cancel_page,
        name="cancel",
    ),
    path(
        "generations/<uuid:generation_id>/star/",
        views.generation_star_page,
        name="star",
    ),
    path(
        "generations/<uuid:generation_id>/delete/",
        views.generation_delete_page,
        name="delete",
    ),
    path(
        "generations/<uuid:generation_id>/extend/",
        views.generation_extend_page,
        name="extend",
    ),
    path(
        "generations/<uuid:generation_id>/joined.mp4",
        views.generation_joined_video,
        name="joined",
    ),
    path("sound/preview.wav", sound_views.clip_preview, name="sound_preview"),
    path(
        "sound/preview/<str:token>.wav",
        sound_views.preview_played,
        name="sound_played",
    ),
    path("sound/mood/", sound_views.mood_line, name="sound_mood"),
    # Served by studio.api (mounted first); the name stays for templates.
    path("api/schema", api_schema, name="api_schema"),
    path("media/<path:path>", views.media, name="media"),
]
