"""The credentials line says whose signature a clip carries and what a
verifier elsewhere will show: "valid" only for the operator's own chain."""

from __future__ import annotations

from html import unescape

import pytest

from generation.credentials import CHAIN_FILE, KEY_FILE, ensure_credentials
from studio.lib import credentials
from studio.sharing.services import share_link_create
from tests.studio.galleries.conftest import make_clip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_credentials():
    credentials._loaded.clear()
    yield
    credentials._loaded.clear()


def share_page_line(client, owner, clip) -> str:
    _, token = share_link_create(owner=owner, generation=clip)
    body = unescape(client.get(f"/s/{token}/").content.decode())
    start = body.index('data-testid="credentials"')
    return body[start : body.index("</p>", start)]


def test_the_studios_own_key_is_named_and_not_called_valid(anonymous_client, alice):
    line = share_page_line(anonymous_client, alice, make_clip(alice))
    assert "Content Credentials: valid" not in line
    assert "signed by this studio's own key" in line
    assert "Verifiers elsewhere will show the signer as untrusted" in line


def test_an_operator_chain_is_valid_and_names_its_signer(
    anonymous_client, alice, settings, tmp_path
):
    # An operator's certificate chain and key, as STUDIO_C2PA_CERT names them.
    operator = tmp_path / "operator"
    ensure_credentials(operator)
    settings.STUDIO_C2PA_CERT = str(operator / CHAIN_FILE)
    settings.STUDIO_C2PA_KEY = str(operator / KEY_FILE)
    line = share_page_line(anonymous_client, alice, make_clip(alice))
    assert "Content Credentials: valid, signed by " in line
    assert "untrusted" not in line and "own key" not in line


def test_a_clip_without_credentials_is_not_dressed_up(anonymous_client, alice, clip):
    from django.conf import settings

    path = settings.MEDIA_ROOT / clip.video
    verdict = credentials.video_verdict(path)
    assert verdict.valid
    path.write_bytes(b"not a video")
    broken = credentials.video_verdict(path)
    assert not broken.valid
    assert "signed by" not in broken.message
