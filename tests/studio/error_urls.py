"""The studio's URLs plus two views that fail, for the error-page tests."""

from django.urls import path

from studio import urls as studio_urls

handler400 = studio_urls.handler400
handler403 = studio_urls.handler403
handler404 = studio_urls.handler404
handler500 = studio_urls.handler500


def broken(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [
    path("broken/", broken),
    path("api/broken", broken),
    *studio_urls.urlpatterns,
]
