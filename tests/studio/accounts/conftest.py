from __future__ import annotations

# Real, signed clips for the data export and account deletion tests.
from tests.studio.galleries.conftest import (  # noqa: F401
    bobs_clip,
    clip,
    gallery,
    gallery_settings,
    other_clip,
)
