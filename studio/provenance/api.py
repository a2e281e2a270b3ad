"""Provenance in the JSON API: what an uploaded file says about itself."""

from __future__ import annotations

import functools
from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from ninja import File, UploadedFile
from ninja.decorators import decorate_view

from studio.api import FieldErrors, Router
from studio.api.errors import error_response
from studio.api.parsers import body_limit
from studio.api.schemas import Error
from studio.provenance.verify import MAX_BYTES, VerifyError, inspect_upload
from studio.provenance.views import FORM_OVERHEAD
from studio.sharing.ratelimit import WINDOW_SECONDS, allow, client_address

router = Router(tags=["Provenance"])


def _rate_limit(run: Any) -> Any:
    """429 past ``STUDIO_VERIFY_RATE_LIMIT`` checks a minute from one address,
    counted with the verify page's checks, before the upload is read."""

    @functools.wraps(run)
    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        limit = settings.STUDIO_VERIFY_RATE_LIMIT
        if not allow("verify", client_address(request), limit=limit):
            response = error_response(
                429, f"Too many checks; wait {WINDOW_SECONDS} seconds and try again."
            )
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        return run(request, *args, **kwargs)

    return limited


@router.post(
    "/verify",
    auth=None,
    response={200: dict[str, Any], 429: Error},
    summary="Check a video or image for Content Credentials and the watermark",
)
@body_limit(MAX_BYTES + FORM_OVERHEAD)
@decorate_view(_rate_limit)
def verify(
    request: HttpRequest,
    file: Annotated[
        UploadedFile,
        File(
            description="A video (MP4, MOV, WebM) or an image (PNG, JPEG, WebP, "
            "GIF), at most 50 MB. It is read and never kept."
        ),
    ],
) -> Any:
    """No account needed. Answers what the file says about itself: its
    Content Credentials (`valid`, `tampered`, `absent` or `unreadable`, the
    signer, whether they declare AI generation) and the studio's invisible
    watermark (`found`, a `confidence` from 0 to 1, whether it names this
    studio, and the clip when its owner shares it), with a one-sentence
    `summary`. 400 `{"errors": {"file": [sentence]}}` for a file it cannot
    read; 429 past
    `STUDIO_VERIFY_RATE_LIMIT` checks a minute from one address."""
    try:
        return inspect_upload(file).as_json()
    except VerifyError as error:
        raise FieldErrors({"file": [str(error)]}) from None
