from __future__ import annotations

from django.urls import path

from studio.galleries import views

app_name = "galleries"

urlpatterns = [
    path("galleries/", views.gallery_list, name="list"),
    path("galleries/<uuid:gallery_id>/", views.gallery_detail, name="detail"),
    path("galleries/<uuid:gallery_id>/edit/", views.gallery_edit, name="edit"),
    path(
        "galleries/<uuid:gallery_id>/download/",
        views.gallery_download,
        name="download",
    ),
    path(
        "galleries/<uuid:gallery_id>/delete/",
        views.gallery_delete_view,
        name="delete",
    ),
    path(
        "galleries/<uuid:gallery_id>/items/<int:item_id>/remove/",
        views.gallery_item_remove_view,
        name="item_remove",
    ),
    path(
        "galleries/<uuid:gallery_id>/items/<int:item_id>/move/",
        views.gallery_item_move_view,
        name="item_move",
    ),
    path(
        "galleries/<uuid:gallery_id>/items/<int:item_id>/cover/",
        views.gallery_item_cover,
        name="item_cover",
    ),
    path("galleries/compare/", views.clip_compare, name="compare"),
    path(
        "galleries/clips/<uuid:generation_id>/",
        views.clip_actions,
        name="clip_actions",
    ),
    path("galleries/clips/<uuid:generation_id>/add/", views.clip_add, name="clip_add"),
    path(
        "galleries/clips/<uuid:generation_id>/download/",
        views.clip_download,
        name="clip_download",
    ),
]
