from __future__ import annotations

from django.urls import path

from studio.sharing import views

app_name = "sharing"

urlpatterns = [
    path("shares/new/", views.share_create, name="create"),
    path("shares/<int:link_id>/revoke/", views.share_revoke, name="revoke"),
    # Anything after s/ is a token candidate: malformed ones answer 404 too.
    path("s/<str:token>/", views.share_page, name="page"),
    path("s/<str:token>/download/", views.share_download_all, name="download_all"),
    path(
        "s/<str:token>/clips/<uuid:generation_id>/<str:kind>",
        views.share_media,
        name="media",
    ),
    path(
        "s/<str:token>/clips/<uuid:generation_id>/download/<str:key>",
        views.share_download,
        name="download",
    ),
    # A shared storyboard: each shot's take, and the latest rendered cut.
    path("s/<str:token>/shots/<int:shot_id>.mp4", views.share_shot, name="shot"),
    path("s/<str:token>/cut/<str:name>", views.share_cut, name="cut"),
]
