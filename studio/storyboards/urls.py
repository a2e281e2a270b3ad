from __future__ import annotations

from django.urls import path

from studio.storyboards import views

app_name = "storyboards"

BOARD = "projects/<uuid:project_id>/storyboards/<uuid:storyboard_id>/"
SHOT = BOARD + "shots/<int:shot_id>/"

urlpatterns = [
    path("projects/<uuid:project_id>/storyboards/", views.storyboard_list, name="list"),
    path(BOARD, views.storyboard_detail, name="detail"),
    path(BOARD + "delete/", views.storyboard_delete, name="delete"),
    path(BOARD + "script/", views.script_propose, name="script"),
    path(BOARD + "script/accept/", views.script_accept, name="script_accept"),
    path(BOARD + "shots/", views.shot_add, name="shot_add"),
    path(BOARD + "shots/order/", views.shots_reorder, name="reorder"),
    path(BOARD + "shots/missing/", views.generate_missing, name="generate_missing"),
    path(SHOT, views.shot_edit, name="shot_edit"),
    path(SHOT + "action/", views.shot_action, name="shot_action"),
    path(SHOT + "takes/<int:take_id>/use/", views.take_choose, name="take_choose"),
    path(SHOT + "takes/<int:take_id>/extend/", views.take_extend, name="take_extend"),
    path(SHOT + "choices/", views.choice_add, name="choice_add"),
    path(
        BOARD + "choices/<int:choice_id>/delete/",
        views.choice_delete,
        name="choice_delete",
    ),
    path(BOARD + "render/", views.render_sequence, name="render"),
    path(BOARD + "soundtrack/", views.soundtrack, name="soundtrack"),
    path(BOARD + "sound/", views.sound_settings, name="sound"),
    path(BOARD + "sound/preview.wav", views.sound_preview, name="sound_preview"),
    path(
        BOARD + "sheet.<str:format>",
        views.storyboard_sheet,
        name="sheet",
    ),
    # Links made before storyboards shared through /s/<token>/ keep opening.
    path("storyboards/shared/<str:token>/", views.shared_page, name="shared"),
    path(
        "storyboards/shared/<str:token>/shots/<int:shot_id>.mp4",
        views.shared_shot,
        name="shared_shot",
    ),
    path(
        "storyboards/shared/<str:token>/<str:name>",
        views.shared_media,
        name="shared_media",
    ),
]
