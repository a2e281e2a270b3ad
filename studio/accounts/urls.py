from __future__ import annotations

from django.urls import path

from studio.accounts import views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("", views.account, name="account"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("export/", views.data_export, name="export"),
    path("delete/", views.account_delete_view, name="delete"),
]
