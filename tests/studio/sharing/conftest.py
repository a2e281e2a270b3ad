from __future__ import annotations

from tests.studio.galleries.conftest import (  # noqa: F401
    bobs_clip,
    clip,
    gallery,
    gallery_settings,
    other_clip,
)
from tests.studio.storyboards.conftest import (  # noqa: F401
    make_take,
    project,
    shots,
    storyboard,
)
