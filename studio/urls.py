from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path, register_converter

from studio.api import api
from studio.errors import api_not_found
from studio.numbers import IdConverter

# Before the apps' URL modules are included: they name ids as <id:...>.
register_converter(IdConverter, "id")

urlpatterns = [
    # Before the apps' own api/ paths, which it takes over app by app.
    path("api/", api.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/", include("studio.accounts.urls")),
    path("", include("studio.generations.urls")),
    path("", include("studio.projects.urls")),
    path("", include("studio.prompts.urls")),
    path("", include("studio.galleries.urls")),
    path("", include("studio.sharing.urls")),
    path("", include("studio.storyboards.urls")),
    path("", include("studio.registry.urls")),
    path("", include("studio.live.urls")),
    path("", include("studio.provenance.urls")),
    path("admin/", admin.site.urls),
    # Last: whatever no route above took under /api/ is a JSON 404.
    re_path(r"^api/", api_not_found),
]

handler400 = "studio.errors.bad_request"
handler403 = "studio.errors.permission_denied"
handler404 = "studio.errors.page_not_found"
handler500 = "studio.errors.server_error"
