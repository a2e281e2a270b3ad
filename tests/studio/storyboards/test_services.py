from __future__ import annotations

import pytest

from studio.generations.models import Generation
from studio.storyboards import services
from studio.storyboards.models import Shot
from studio.storyboards.services import StoryboardError

pytestmark = pytest.mark.django_db


def orders(storyboard) -> list[tuple[int, str]]:
    return [(s.order, s.kind) for s in storyboard.shots.order_by("order")]


def test_shots_are_numbered_in_the_order_they_are_added(storyboard, shots):
    assert orders(storyboard) == [(1, "establishing"), (2, "close-up"), (3, "reaction")]


def test_a_shot_added_at_a_position_pushes_the_others_down(storyboard, shots):
    services.shot_add(storyboard=storyboard, order=2, prompt="an insert", kind="insert")
    assert [k for _, k in orders(storyboard)] == [
        "establishing", "insert", "close-up", "reaction",
    ]  # fmt: skip


def test_moving_a_shot_renumbers_every_shot(storyboard, shots):
    services.shot_move(shot=shots[2], position=1)
    assert orders(storyboard) == [(1, "reaction"), (2, "establishing"), (3, "close-up")]


def test_reordering_needs_every_shot_exactly_once(storyboard, shots):
    a, b, c = (s.pk for s in shots)
    services.shots_reorder(storyboard=storyboard, shot_ids=[b, a, c])
    assert [k for _, k in orders(storyboard)] == [
        "close-up",
        "establishing",
        "reaction",
    ]
    with pytest.raises(StoryboardError):
        services.shots_reorder(storyboard=storyboard, shot_ids=[a, b])
    with pytest.raises(StoryboardError):
        services.shots_reorder(storyboard=storyboard, shot_ids=[a, a, b])


def test_duplicating_a_shot_puts_the_copy_right_after_it(storyboard, shots):
    copy = services.shot_duplicate(shot=shots[0])
    assert copy.order == 2 and copy.prompt == shots[0].prompt
    assert [k for _, k in orders(storyboard)][:2] == ["establishing", "establishing"]


def test_deleting_a_shot_closes_the_gap(storyboard, shots):
    services.shot_delete(shot=shots[1])
    assert orders(storyboard) == [(1, "establishing"), (2, "reaction")]


def test_the_newest_finished_take_is_used_until_one_is_chosen(shots, make_take):
    first = make_take(shots[0])
    second = make_take(shots[0], colour=(0, 200, 0))
    shot = Shot.objects.get(pk=shots[0].pk)
    assert shot.used_take() == second
    services.take_choose(shot=shot, take=first)
    assert Shot.objects.get(pk=shot.pk).used_take() == first


def test_a_take_of_another_shot_or_unfinished_cannot_be_chosen(shots, make_take):
    other = make_take(shots[1])
    with pytest.raises(StoryboardError, match="another shot"):
        services.take_choose(shot=shots[0], take=other)
    take = make_take(shots[0])
    Generation.objects.filter(pk=take.generation_id).update(status="failed")
    take.generation.refresh_from_db()
    with pytest.raises(StoryboardError, match="finished"):
        services.take_choose(shot=shots[0], take=take)


def test_generating_missing_shots_queues_them_in_order_with_the_look(
    storyboard, shots, make_take
):
    make_take(shots[1])
    services.storyboard_update(
        storyboard=storyboard, style="film grain", negative_prompt="blurry"
    )
    missing = services.shots_missing(storyboard)
    assert [s.order for s in missing] == [1, 3]
    takes = services.takes_generate(shots=missing)
    assert [t.shot.order for t in takes] == [1, 3]
    spec = takes[0].generation.spec
    assert (
        spec.prompt == "establishing wide shot, a hawk over a green valley, film grain"
    )
    assert spec.negative_prompt == "blurry"
    assert (spec.num_frames, spec.fps, spec.width, spec.num_inference_steps) == (
        8, 8, 64, 2,
    )  # fmt: skip
    assert takes[0].generation.project == storyboard.project
    assert services.shots_missing(storyboard) == []


def test_characters_in_a_shot_prompt_expand_through_the_prompts_app(
    alice, storyboard, shots
):
    from studio.prompts.models import Character

    Character.objects.create(
        owner=alice, name="mia", description="a girl in a red coat"
    )
    services.shot_update(shot=shots[1], prompt="@mia looks up")
    (take,) = services.takes_generate(shots=[shots[1]])
    assert "a girl in a red coat looks up" in take.generation.prompt


def test_continuing_from_the_previous_shot_is_refused_for_the_builtin_model(shots):
    supported, reason = services.continue_support("builtin")
    assert not supported and "image" in reason
    services.shot_update(shot=shots[1], continue_from_previous=True)
    with pytest.raises(StoryboardError, match="image"):
        services.takes_generate(shots=[shots[1]])


def test_rendering_needs_a_finished_take_for_every_shot(storyboard, shots, make_take):
    make_take(shots[0])
    with pytest.raises(StoryboardError, match="Shots 2, 3 need a finished take"):
        services.storyboard_render(storyboard=storyboard)


def test_a_render_is_a_generation_in_the_project_with_the_plan(
    storyboard, shots, make_take
):
    for shot in shots:
        make_take(shot)
    render = services.storyboard_render(storyboard=storyboard)
    generation = render.generation
    assert generation.project == storyboard.project
    assert generation.status == "queued"
    assert generation.kind == "sequence"
    assert generation.settings["num_frames"] == 8 + 12 + 8
    assert generation.duration == 3.5
    plan = generation.settings["sequence"]["shots"]
    assert [p["caption"] for p in plan] == ["Dawn.", "", "Look!"]
