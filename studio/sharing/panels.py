"""The share panel a gallery, clip, storyboard or the Live page embeds."""

from __future__ import annotations

import segno
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

from studio.galleries.models import Gallery
from studio.generations.models import Generation
from studio.sharing.forms import ShareLinkForm
from studio.sharing.models import ShareLink
from studio.storyboards.models import Storyboard


def share_qr_svg(url: str) -> SafeString:
    """A QR code for ``url`` as inline SVG, so a phone's camera opens the link.

    Drawn with presentation attributes only: the studio's CSP allows no
    inline styles. Safe to mark safe: segno escapes the title and the path
    holds only drawing commands."""
    code = segno.make(url, error="m")
    return mark_safe(  # noqa: S308
        code.svg_inline(
            scale=4,
            border=2,
            dark="#000",
            light="#fff",
            svgclass="share-qr",
            title="QR code for the share link",
        )
    )


def share_panel_context(
    request: HttpRequest,
    *,
    gallery: Gallery | None = None,
    generation: Generation | None = None,
    storyboard: Storyboard | None = None,
    live: bool = False,
    form: ShareLinkForm | None = None,
    new_url: str = "",
) -> dict[str, object]:
    links = ShareLink.objects.filter(owner=request.user)
    if live:
        links = links.filter(live=True)
    elif gallery:
        links = links.filter(gallery=gallery)
    elif storyboard:
        links = links.filter(storyboard=storyboard)
    else:
        links = links.filter(generation=generation)
    return {
        "share_gallery": gallery,
        "share_generation": generation,
        "share_storyboard": storyboard,
        "share_live": live,
        "share_links": links,
        "share_form": form or ShareLinkForm(),
        "new_url": new_url,
        "new_qr": share_qr_svg(new_url) if new_url else "",
    }
