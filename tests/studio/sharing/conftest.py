from __future__ import annotations

import pytest

from studio.sharing.preparer import preparer
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

# Generous: the preparer's jobs take well under a second each, even on a
# busy machine.
PREPARED_WITHIN = 120


@pytest.fixture(autouse=True)
def preparer_idle_after_each_test():
    """No file is made for one test while the next one runs."""
    yield
    assert preparer.wait_idle(PREPARED_WITHIN)


def get_prepared(client, url: str, **headers):
    """A share file as a visitor gets it once it is made: while the answer
    is "being prepared", wait for the preparer and ask again."""
    response = client.get(url, **headers)
    for _ in range(10):
        if response.status_code != 202:
            return response
        assert preparer.wait_idle(PREPARED_WITHIN)
        response = client.get(url, **headers)
    raise AssertionError(f"{url} stayed in preparation")
