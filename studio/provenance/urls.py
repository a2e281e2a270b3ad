from __future__ import annotations

from django.urls import path

from studio.provenance import views

app_name = "provenance"

urlpatterns = [
    path("verify/", views.verify_page, name="verify"),
]
