"""Serving private files: ranges for video seeking, and who is asking."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from studio.accounts.services import api_token_user

# Digits are bounded so a crafted header never makes an enormous int.
RANGE = re.compile(r"bytes=([0-9]{0,19})-([0-9]{0,19})$")


def credentials_user(request: HttpRequest) -> Any:
    """The owner of the bearer token a script sends, or the session's user.

    The URLs the API hands out must open with the credentials that got them.
    A bad token answers None: it never falls back to the session.
    """
    header = request.headers.get("Authorization", "")
    if not header:
        return request.user
    scheme, _, token = header.partition(" ")
    return api_token_user(token.strip()) if scheme == "Bearer" else None


def ranged_file(request: HttpRequest, file: Path) -> HttpResponseBase:
    """The file, or the byte range asked for (206), or 416 past its end.

    Browsers seek in videos with Range requests; Safari insists on them.
    """
    size = file.stat().st_size
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    match = RANGE.match(request.headers.get("Range", "").strip())
    if not match or not any(match.groups()):
        response: HttpResponseBase = FileResponse(
            file.open("rb"), content_type=content_type
        )
    else:
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else size - 1, size - 1)
        else:
            start, end = max(size - int(last), 0), size - 1
        if start > end or start >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        with file.open("rb") as handle:
            handle.seek(start)
            body = handle.read(end - start + 1)
        response = HttpResponse(body, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    return response
