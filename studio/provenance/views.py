"""The public verify page: upload a file, read what it says about itself."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from generation import watermark
from studio.provenance.verify import MAX_BYTES, VerifyError, inspect_upload
from studio.sharing.ratelimit import rate_limited

# A multipart body's own overhead beside the file.
FORM_OVERHEAD = 64 * 1024


@require_http_methods(["GET", "POST"])
@rate_limited("verify", "STUDIO_VERIFY_RATE_LIMIT")
def verify_page(request: HttpRequest) -> HttpResponse:
    context = {"max_mb": MAX_BYTES // 2**20, "threshold": watermark.DETECTION_Z}
    if request.method == "GET":
        return render(request, "provenance/verify.html", context)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    status = 200
    if length > MAX_BYTES + FORM_OVERHEAD:
        context["error"] = (
            f"The file is larger than {context['max_mb']} MB; send a shorter clip."
        )
        status = 413
    else:
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "Choose a video or an image to check."
            status = 400
        else:
            try:
                report = inspect_upload(upload)
            except VerifyError as error:
                context["error"] = str(error)
                status = 400
            else:
                context["report"] = report
                context["result"] = report.as_json()
                context["result_json"] = json.dumps(context["result"], indent=2)
                context["name"] = upload.name[:200]
    response = render(request, "provenance/verify.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
