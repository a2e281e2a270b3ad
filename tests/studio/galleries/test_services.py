from __future__ import annotations

import pytest

from studio.galleries.services import (
    NotAddable,
    gallery_create,
    gallery_item_add,
    gallery_item_move,
    gallery_item_remove,
)
from studio.generations.models import Generation
from tests.studio.galleries.conftest import make_clip

pytestmark = pytest.mark.django_db


def order(gallery) -> list[str]:
    return [item.generation.prompt for item in gallery.items.order_by("position")]


@pytest.fixture
def board(alice):
    gallery = gallery_create(owner=alice, title="Board")
    for name in "abcde":
        gallery_item_add(gallery=gallery, generation=make_clip(alice, prompt=name))
    return gallery


def test_adding_appends_and_the_first_clip_becomes_the_cover(board):
    assert order(board) == list("abcde")
    board.refresh_from_db()
    assert board.cover.prompt == "a"


def test_adding_the_same_clip_twice_keeps_one_item(board, alice):
    first = board.items.get(position=0)
    again = gallery_item_add(gallery=board, generation=first.generation)
    assert again.pk == first.pk
    assert board.items.count() == 5


def test_it_refuses_another_users_clip(board, bob):
    with pytest.raises(NotAddable):
        gallery_item_add(gallery=board, generation=make_clip(bob))


def test_it_refuses_an_unfinished_clip(board, alice, tiny_spec):
    queued = Generation.objects.create(
        owner=alice, prompt="x", seed=1, settings=tiny_spec.to_dict()
    )
    with pytest.raises(NotAddable):
        gallery_item_add(gallery=board, generation=queued)


@pytest.mark.parametrize(
    ("start", "to", "expected"),
    [
        (0, 3, "bcdae"),
        (4, 1, "aebcd"),
        (2, 2, "abcde"),
        (1, 99, "acdeb"),
        (3, -5, "dabce"),
    ],
)
def test_moving_an_item_shifts_the_ones_in_between(board, start, to, expected):
    item = board.items.get(position=start)
    gallery_item_move(item=item, position=to)
    assert order(board) == list(expected)
    assert sorted(board.items.values_list("position", flat=True)) == [0, 1, 2, 3, 4]


def test_removing_an_item_closes_the_gap_and_moves_the_cover_on(board):
    gallery_item_remove(item=board.items.get(position=0))
    board.refresh_from_db()
    assert order(board) == list("bcde")
    assert list(board.items.values_list("position", flat=True)) == [0, 1, 2, 3]
    assert board.cover.prompt == "b"


def test_a_move_is_a_constant_number_of_queries(board, django_assert_max_num_queries):
    item = board.items.get(position=4)
    with django_assert_max_num_queries(6):
        gallery_item_move(item=item, position=0)


def test_a_page_holds_the_items_at_its_positions(board):
    from studio.galleries.services import gallery_page

    page = gallery_page(board.items.order_by("position"), 2, 2)
    assert [item.generation.prompt for item in page] == ["c", "d"]
    assert page.has_next() and page.paginator.num_pages == 3
    last = gallery_page(board.items.order_by("position"), "junk", 2)
    assert [item.generation.prompt for item in last] == ["a", "b"]
