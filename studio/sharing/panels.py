"""The share panel a gallery, clip, storyboard or the Live page embeds."""

from __future__ import annotations

from django.http import HttpRequest

from studio.galleries.models import Gallery
from studio.generations.models import Generation
from studio.sharing.forms import ShareLinkForm
from studio.sharing.models import ShareLink
from studio.storyboards.models import Storyboard


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
    }
