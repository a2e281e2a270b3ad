"""Content-Security-Policy and Permissions-Policy on every response.

The pages load scripts and styles only from the studio's static files (no
inline code, no eval), play media and open websockets to the studio itself,
and use none of the browser's sensors or devices. A share page is opened by
strangers from links: the policy keeps whatever a prompt or title holds from
ever running as code there.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.deprecation import MiddlewareMixin

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",
        # CSP Level 3 lets 'self' match ws: and wss: of the page's own host,
        # which is where previews stream from.
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# The API's docs page (ninja's Swagger UI, from static files): its stylesheet
# draws icons as data: images. Scripts stay the studio's own files.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace(
    "img-src 'self'", "img-src 'self' data:"
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "serial",
        "usb",
    )
)


# Django's technical 404 and 500 pages, shown only in DEBUG, carry this tag.
DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'


def _is_debug_page(response: HttpResponse) -> bool:
    """Django's debug pages style and script themselves inline; a creator
    debugging locally needs them readable. The studio's own error pages keep
    the policy."""
    return (
        settings.DEBUG
        and response.status_code in (404, 500)
        and not response.streaming
        and DEBUG_PAGE_MARK in response.content[:2000]
    )


class SecurityHeaders(MiddlewareMixin):
    """Sets both policies unless a view has set its own."""

    def process_response(
        self, request: HttpRequest, response: HttpResponse
    ) -> HttpResponse:
        if _is_debug_page(response):
            return response
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
