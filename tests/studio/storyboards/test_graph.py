from __future__ import annotations

from studio.storyboards.graph import path_map


def test_a_linear_storyboard_plays_in_order_to_one_ending():
    paths = path_map([1, 2, 3], {})
    assert paths.edges == {1: [2], 2: [3], 3: []}
    assert paths.endings == [3]
    assert paths.ok and not paths.cycles


def test_choices_branch_and_shots_after_a_choice_may_be_unreachable():
    paths = path_map([1, 2, 3, 4], {1: [("hawk", 3), ("valley", 4)]})
    assert paths.edges[1] == [3, 4]
    assert paths.unreachable == [2]
    assert paths.endings == [4]
    assert not paths.ok


def test_it_finds_a_cycle_with_a_way_out():
    paths = path_map([1, 2, 3], {2: [("again", 1), ("on", 3)]})
    assert paths.cycles == [[1, 2]]
    assert paths.in_cycle == {1, 2}
    assert paths.trapped == []
    assert paths.ok


def test_a_cycle_without_a_way_out_traps_the_viewer():
    paths = path_map([1, 2, 3], {2: [("again", 1)]})
    assert paths.cycles == [[1, 2]]
    assert paths.trapped == [1, 2]
    assert paths.unreachable == [3]


def test_a_shot_choosing_itself_is_a_cycle():
    paths = path_map([1, 2], {1: [("repeat", 1), ("go", 2)]})
    assert paths.cycles == [[1]]


def test_a_choice_whose_target_is_gone_is_broken():
    paths = path_map([1, 2], {1: [("lost", None), ("go", 2)]})
    assert paths.broken == [(1, "lost")]
    assert not paths.ok


def test_an_empty_storyboard_has_no_start():
    assert path_map([], {}).start is None
