from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from studio.sharing.models import ShareLink
from studio.sharing.services import (
    TOKEN_BYTES,
    LinkExpired,
    share_link_create,
    share_link_resolve,
    share_link_revoke,
)

pytestmark = pytest.mark.django_db


def test_a_token_carries_at_least_128_random_bits_and_only_its_hash_is_kept(
    alice, gallery
):
    link, token = share_link_create(owner=alice, gallery=gallery, label="Mia")
    assert TOKEN_BYTES * 8 >= 128 and len(token) == 32
    stored = ShareLink.objects.filter(pk=link.pk).values().get()
    assert token not in str(stored)
    assert len(link.digest) == 64
    assert share_link_resolve(token) == link


def test_tokens_differ_for_every_link(alice, gallery):
    tokens = {share_link_create(owner=alice, gallery=gallery)[1] for _ in range(20)}
    assert len(tokens) == 20


def test_a_gallery_has_several_links_one_per_recipient(alice, gallery):
    for name in ("Mia", "Sam", "Ana"):
        share_link_create(owner=alice, gallery=gallery, label=name)
    assert set(gallery.share_links.values_list("label", flat=True)) == {
        "Mia",
        "Sam",
        "Ana",
    }


def test_a_revoked_link_no_longer_resolves(alice, gallery):
    link, token = share_link_create(owner=alice, gallery=gallery)
    share_link_revoke(link=link)
    assert share_link_resolve(token) is None


def test_an_expired_link_says_so(alice, gallery):
    link, token = share_link_create(owner=alice, gallery=gallery, expires_in_hours=1)
    ShareLink.objects.filter(pk=link.pk).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )
    with pytest.raises(LinkExpired):
        share_link_resolve(token)


@pytest.mark.parametrize(
    "token", ["", "short", "x" * 33, "a" * 31 + "!", "../../etc/passwd", None]
)
def test_malformed_tokens_resolve_to_nothing_without_a_query(
    token, django_assert_num_queries
):
    with django_assert_num_queries(0):
        assert share_link_resolve(token) is None


def test_only_the_owner_can_share(bob, gallery, storyboard):
    with pytest.raises(PermissionError):
        share_link_create(owner=bob, gallery=gallery)
    with pytest.raises(PermissionError):
        share_link_create(owner=bob, storyboard=storyboard)
    assert not ShareLink.objects.exists()


def test_a_link_shares_one_gallery_clip_or_storyboard(alice, gallery, clip, storyboard):
    with pytest.raises(ValueError):
        share_link_create(owner=alice, gallery=gallery, generation=clip)
    with pytest.raises(ValueError):
        share_link_create(owner=alice, gallery=gallery, storyboard=storyboard)
    with pytest.raises(ValueError):
        share_link_create(owner=alice, generation=clip, storyboard=storyboard)
    with pytest.raises(ValueError):
        share_link_create(owner=alice)


def test_the_database_holds_a_link_to_exactly_one_thing(
    alice, gallery, clip, storyboard
):
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(
            owner=alice, gallery=gallery, storyboard=storyboard, digest="a" * 64
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ShareLink.objects.create(owner=alice, digest="b" * 64)
    ShareLink.objects.create(owner=alice, storyboard=storyboard, digest="c" * 64)


def test_a_storyboard_link_resolves_until_revoked(alice, storyboard):
    link, token = share_link_create(owner=alice, storyboard=storyboard)
    assert len(token) == 32 and token not in link.digest
    assert share_link_resolve(token) == link
    assert link.storyboard == storyboard and link.owner == alice
    share_link_revoke(link=link)
    assert share_link_resolve(token) is None
