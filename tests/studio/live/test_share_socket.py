"""Watching a live stream through a share link: the viewer socket, votes and
the viewer count, against the real ASGI app and the built-in model's real
weights, streaming small frames."""

from __future__ import annotations

import datetime
import json
import time

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from generation.live import live_busy
from studio.galleries.models import Gallery
from studio.live import broadcast
from studio.sharing.models import ShareLink
from studio.sharing.services import share_link_create, share_link_revoke
from tests.studio.generations.processes import PATIENCE
from tests.studio.live.test_consumers import (
    BLUE,
    ORIGIN,
    PROMPT,
    close_code,
    communicator,
    connected,
    next_frame,
    next_json,
    start,
)

pytestmark = pytest.mark.django_db(transaction=True)

GREEN = "a green ball staying still on a sunny day"
CHOICES = [
    {"label": "Blue", "prompt": BLUE},
    {"label": "Green", "prompt": GREEN},
]


@pytest.fixture(autouse=True)
def empty_hub():
    """Each test meets an audience of its own (each has its own event loop),
    and the next test finds the device free: a session's thread ends after
    the frame in hand, which on a busy machine may outlast the socket."""
    broadcast.hub._channels.clear()
    yield
    broadcast.hub._channels.clear()
    deadline = time.monotonic() + PATIENCE
    while live_busy() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not live_busy()


@database_sync_to_async
def live_link(user, **fields) -> str:
    _, token = share_link_create(owner=user, live=True, **fields)
    return token


@database_sync_to_async
def link_of(user) -> ShareLink:
    return ShareLink.objects.filter(owner=user, live=True).latest("created")


async def watcher(token: str):
    ws = communicator(ORIGIN, path=f"/ws/live/watch?share={token}")
    ok, _ = await ws.connect()
    assert ok
    return ws


async def refusal(ws) -> tuple[str, int]:
    """The sentence and the close code a refused viewer gets."""
    error = json.loads(await ws.receive_from())
    assert error["type"] == "error"
    return error["error"], await close_code(ws)


async def next_count(ws, count: int) -> dict:
    """The owner's next viewer count equal to ``count``."""
    while True:
        message = await next_json(ws, "viewers")
        if message["count"] == count:
            return message


async def tally_of(ws, counts: list[int]) -> dict:
    while True:
        tally = await next_json(ws, "tally")
        if tally["counts"] == counts:
            return tally


# -- who may watch ---------------------------------------------------------------


@pytest.mark.parametrize(
    "token", ["", "short", "x" * 32, "../../etc/passwd", "a" * 31 + "!"]
)
async def test_an_unknown_or_malformed_link_is_closed_with_4404(token):
    ws = await watcher(token)
    sentence, code = await refusal(ws)
    assert code == 4404 and "does not work" in sentence


async def test_a_revoked_link_is_closed_with_4404(alice):
    token = await live_link(alice)
    link = await link_of(alice)
    await database_sync_to_async(share_link_revoke)(link=link)
    sentence, code = await refusal(await watcher(token))
    assert code == 4404 and "does not work" in sentence


async def test_an_expired_link_is_closed_with_4404_and_says_so(alice):
    token = await live_link(alice, expires_in_hours=1)
    past = timezone.now() - datetime.timedelta(minutes=1)
    await database_sync_to_async(ShareLink.objects.filter(owner=alice).update)(
        expires=past
    )
    sentence, code = await refusal(await watcher(token))
    assert code == 4404 and sentence == "This link has expired."


async def test_a_gallery_link_does_not_open_the_live_stream(alice):
    def gallery_link() -> str:
        gallery = Gallery.objects.create(owner=alice, title="Boards")
        return share_link_create(owner=alice, gallery=gallery)[1]

    token = await database_sync_to_async(gallery_link)()
    _, code = await refusal(await watcher(token))
    assert code == 4404


async def test_each_address_opens_the_socket_a_limited_number_of_times(alice, settings):
    settings.STUDIO_SHARE_RATE_LIMIT = 2
    token = await live_link(alice)
    for _ in range(2):
        ws = await watcher(token)
        assert json.loads(await ws.receive_from()) == {"type": "waiting"}
        await ws.disconnect()
    sentence, code = await refusal(await watcher(token))
    assert code == 4429 and "wait a minute" in sentence


async def test_the_stream_takes_a_limited_number_of_viewers(alice, settings):
    settings.STUDIO_LIVE_MAX_VIEWERS = 1
    token = await live_link(alice)
    first = await watcher(token)
    assert json.loads(await first.receive_from()) == {"type": "waiting"}
    sentence, code = await refusal(await watcher(token))
    assert code == 4503 and "as many viewers as it can take (1)" in sentence
    await first.disconnect()
    again = await watcher(token)
    assert json.loads(await again.receive_from()) == {"type": "waiting"}
    await again.disconnect()


async def test_revoking_the_link_cuts_its_viewers_off(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    ws = await watcher(token)
    assert json.loads(await ws.receive_from()) == {"type": "waiting"}
    await next_count(owner, 1)
    link = await link_of(alice)
    await database_sync_to_async(share_link_revoke)(link=link)
    sentence, code = await refusal(ws)
    assert code == 4404 and "no longer opens" in sentence
    await next_count(owner, 0)
    await owner.disconnect()


# -- watching ----------------------------------------------------------------------


async def test_a_viewer_waits_then_sees_the_owners_frames_then_the_end(
    alice, alice_cookie
):
    token = await live_link(alice)
    ws = await watcher(token)
    assert json.loads(await ws.receive_from()) == {"type": "waiting"}

    owner = await connected(alice_cookie)
    started = await start(owner)
    assert await next_json(ws, "started") == {
        "type": "started",
        "fps": started["fps"],
        "width": started["width"],
        "height": started["height"],
    }
    owner_frames = {}
    for _ in range(3):
        header, jpeg = await next_frame(owner)
        owner_frames[header["index"]] = jpeg
    seen = []
    while len(seen) < 3:
        header, jpeg = await next_frame(ws)
        assert header["session"] == started["session"]
        assert header["sent_at"] > 0 and header["format"] == "jpeg"
        if header["index"] in owner_frames:
            assert jpeg == owner_frames[header["index"]]
        seen.append(header["index"])
    assert seen == sorted(seen) and len(set(seen)) == 3

    await owner.send_json_to({"type": "stop"})
    assert await next_json(ws, "stopped") == {"type": "stopped"}
    await owner.disconnect()
    await ws.send_json_to({"type": "ping"})
    assert await next_json(ws, "pong") == {"type": "pong"}
    await ws.disconnect()


async def test_a_viewer_who_joins_a_running_stream_starts_watching_at_once(
    alice, alice_cookie
):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    started = await start(owner)
    await next_frame(owner)
    ws = await watcher(token)
    joined = json.loads(await ws.receive_from())
    assert joined["type"] == "started" and joined["fps"] == started["fps"]
    header, _ = await next_frame(ws)
    assert header["session"] == started["session"]
    await ws.disconnect()
    await owner.disconnect()


async def test_closing_the_owners_tab_tells_viewers_the_stream_ended(
    alice, alice_cookie
):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ws = await watcher(token)
    await next_frame(ws)
    await owner.disconnect()
    assert await next_json(ws, "stopped") == {"type": "stopped"}
    await ws.disconnect()


async def test_the_owner_hears_the_viewer_count_as_it_changes(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    first = await watcher(token)
    await next_count(owner, 1)
    second = await watcher(token)
    await next_count(owner, 2)
    await start(owner)
    stats = await next_json(owner, "stats")
    assert stats["viewers"] == 2
    await first.disconnect()
    await next_count(owner, 1)
    await second.disconnect()
    await next_count(owner, 0)
    await owner.disconnect()


async def test_an_owner_who_connects_while_viewers_wait_hears_of_them_at_once(
    alice, alice_cookie
):
    token = await live_link(alice)
    ws = await watcher(token)
    assert json.loads(await ws.receive_from()) == {"type": "waiting"}
    owner = await connected(alice_cookie)
    assert json.loads(await owner.receive_from()) == {"type": "viewers", "count": 1}
    await ws.disconnect()
    await owner.disconnect()


async def test_bob_does_not_hear_of_alices_viewers(alice, bob_cookie):
    token = await live_link(alice)
    bob = await connected(bob_cookie)
    ws = await watcher(token)
    assert json.loads(await ws.receive_from()) == {"type": "waiting"}
    await bob.send_json_to({"type": "ping"})
    # Nothing about alice's viewer came before bob's answer.
    assert json.loads(await bob.receive_from()) == {"type": "pong"}
    await ws.disconnect()
    await bob.disconnect()


async def test_bob_streaming_does_not_reach_alices_viewers(alice, bob_cookie):
    token = await live_link(alice)
    ws = await watcher(token)
    assert json.loads(await ws.receive_from()) == {"type": "waiting"}
    bob = await connected(bob_cookie)
    await start(bob)
    await next_frame(bob)
    await next_frame(bob)
    await ws.send_json_to({"type": "ping"})
    assert json.loads(await ws.receive_from()) == {"type": "pong"}
    await bob.disconnect()
    await ws.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "[1]",
        '{"type": "dance"}',
        '{"type": "vote"}',
        '{"type": "vote", "choice": "1"}',
        '{"type": "vote", "choice": true}',
        '{"type": "vote", "choice": 1.0}',
        '{"type": "vote", "choice": -1}',
        '{"type": "vote", "choice": 4}',
        '{"type": "vote", "choice": 1, "again": 1}',
        '{"type": "ping", "extra": 1}',
        '{"type": "prompt", "prompt": "a cat"}',
        '{"type": "start", "prompt": "a cat"}',
        json.dumps({"type": "vote", "choice": 1, "x": "y" * 300}),
        b"\x00\x01",
    ],
)
async def test_anything_but_a_vote_or_a_ping_closes_the_viewer_with_4400(
    alice, message
):
    token = await live_link(alice)
    ws = await watcher(token)
    assert json.loads(await ws.receive_from()) == {"type": "waiting"}
    if isinstance(message, bytes):
        await ws.send_to(bytes_data=message)
    else:
        await ws.send_to(text_data=message)
    assert await close_code(ws) == 4400


# -- votes ---------------------------------------------------------------------------


async def test_viewers_vote_and_the_winner_steers_the_stream(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    header, _ = await next_frame(owner)
    assert header["prompt_index"] == 0
    ann, ben, cat = [await watcher(token) for _ in range(3)]

    await owner.send_json_to({"type": "poll", "choices": CHOICES, "seconds": 60})
    offered = await next_json(owner, "poll")
    assert [c["prompt"] for c in offered["choices"]] == [BLUE, GREEN]
    for ws in (ann, ben, cat):
        poll = await next_json(ws, "poll")
        # Viewers read the labels, never the prompts.
        assert poll["choices"] == [{"label": "Blue"}, {"label": "Green"}]
        assert poll["seconds"] == 60 and 0 < poll["ends_in"] <= 60
        assert poll["counts"] == [0, 0] and poll["poll"] == offered["poll"]

    await ann.send_json_to({"type": "vote", "choice": 0})
    assert await next_json(ann, "voted") == {
        "type": "voted",
        "poll": offered["poll"],
        "choice": 0,
    }
    await ben.send_json_to({"type": "vote", "choice": 1})
    await cat.send_json_to({"type": "vote", "choice": 0})
    await tally_of(owner, [2, 1])
    assert (await tally_of(ben, [2, 1]))["votes"] == 3
    # Changing one's mind: the latest choice counts, still one vote.
    await cat.send_json_to({"type": "vote", "choice": 1})
    await tally_of(owner, [1, 2])
    await tally_of(ann, [1, 2])

    await owner.send_json_to({"type": "poll", "close": True})
    closed = await next_json(owner, "poll_closed")
    assert closed["winner"] == 1 and closed["label"] == "Green"
    assert closed["prompt"] == GREEN and closed["counts"] == [1, 2]
    assert closed["cancelled"] is False
    seen = await next_json(ann, "poll_closed")
    assert seen["winner"] == 1 and seen["label"] == "Green"
    assert "prompt" not in seen
    # The stream follows the winner: the prompt index moves on.
    while header["prompt_index"] == 0:
        header, _ = await next_frame(owner)
    assert header["prompt_index"] == 1
    # The vote is over: a late vote gets a sentence, not a close.
    await ben.send_json_to({"type": "vote", "choice": 0})
    assert (await next_json(ben, "error"))["error"] == (
        "There is no vote open right now."
    )
    for ws in (ann, ben, cat, owner):
        await ws.disconnect()


async def test_a_vote_closes_by_itself_when_its_time_is_up(
    alice, alice_cookie, monkeypatch
):
    monkeypatch.setattr("studio.live.consumers.MIN_POLL_SECONDS", 1)
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ws = await watcher(token)
    await owner.send_json_to({"type": "poll", "choices": [BLUE, GREEN], "seconds": 1})
    poll = await next_json(ws, "poll")
    assert poll["choices"] == [{"label": BLUE}, {"label": GREEN}]
    await ws.send_json_to({"type": "vote", "choice": 0})
    closed = await next_json(owner, "poll_closed")
    assert closed["winner"] == 0 and closed["prompt"] == BLUE
    header, _ = await next_frame(owner)
    while header["prompt_index"] == 0:
        header, _ = await next_frame(owner)
    await ws.disconnect()
    await owner.disconnect()


async def test_a_tie_goes_to_the_earliest_choice(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ann, ben = await watcher(token), await watcher(token)
    choices = [*CHOICES, {"label": "Red", "prompt": PROMPT}]
    await owner.send_json_to({"type": "poll", "choices": choices, "seconds": 30})
    await next_json(ann, "poll")
    await next_json(ben, "poll")
    await ann.send_json_to({"type": "vote", "choice": 2})
    await ben.send_json_to({"type": "vote", "choice": 1})
    await tally_of(owner, [0, 1, 1])
    await owner.send_json_to({"type": "poll", "close": True})
    closed = await next_json(owner, "poll_closed")
    assert closed["winner"] == 1 and closed["prompt"] == GREEN
    for ws in (ann, ben, owner):
        await ws.disconnect()


async def test_a_vote_nobody_answered_or_cancelled_changes_nothing(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ws = await watcher(token)
    await owner.send_json_to({"type": "poll", "choices": CHOICES})
    assert (await next_json(ws, "poll"))["seconds"] == 30
    await owner.send_json_to({"type": "poll", "close": True})
    closed = await next_json(owner, "poll_closed")
    assert closed["winner"] is None and closed["prompt"] is None
    assert closed["counts"] == [0, 0]

    await owner.send_json_to({"type": "poll", "choices": CHOICES, "seconds": 10})
    await next_json(ws, "poll")
    await ws.send_json_to({"type": "vote", "choice": 1})
    await tally_of(owner, [0, 1])
    await owner.send_json_to({"type": "poll", "cancel": True})
    cancelled = await next_json(ws, "poll_closed")
    assert cancelled["cancelled"] is True and cancelled["winner"] is None
    # Neither vote steered the stream.
    for _ in range(3):
        header, _ = await next_frame(owner)
        assert header["prompt_index"] == 0
    await ws.disconnect()
    await owner.disconnect()


async def test_a_viewer_who_leaves_takes_their_vote_away(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ann, ben = await watcher(token), await watcher(token)
    await owner.send_json_to({"type": "poll", "choices": CHOICES, "seconds": 30})
    await next_json(ann, "poll")
    await next_json(ben, "poll")
    await ann.send_json_to({"type": "vote", "choice": 0})
    await ben.send_json_to({"type": "vote", "choice": 1})
    await tally_of(owner, [1, 1])
    await ann.disconnect()
    await tally_of(owner, [0, 1])
    await ben.disconnect()
    await owner.disconnect()


async def test_stopping_the_stream_calls_the_vote_off(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ws = await watcher(token)
    await owner.send_json_to({"type": "poll", "choices": CHOICES, "seconds": 30})
    await next_json(ws, "poll")
    await owner.send_json_to({"type": "stop"})
    closed = await next_json(ws, "poll_closed")
    assert closed["cancelled"] is True
    assert await next_json(ws, "stopped") == {"type": "stopped"}
    await ws.disconnect()
    await owner.disconnect()


async def test_a_vote_for_no_open_poll_or_a_missing_option_gets_a_sentence(
    alice, alice_cookie
):
    token = await live_link(alice)
    ws = await watcher(token)
    await ws.send_json_to({"type": "vote", "choice": 0})
    assert (await next_json(ws, "error"))["error"] == (
        "There is no vote open right now."
    )
    owner = await connected(alice_cookie)
    await start(owner)
    await owner.send_json_to({"type": "poll", "choices": CHOICES, "seconds": 30})
    await next_json(ws, "poll")
    await ws.send_json_to({"type": "vote", "choice": 3})
    assert (await next_json(ws, "error"))["error"] == "Choose one of the 2 options."
    await ws.send_json_to({"type": "ping"})
    assert await next_json(ws, "pong") == {"type": "pong"}
    await ws.disconnect()
    await owner.disconnect()


async def test_a_late_viewer_sees_the_open_vote_and_its_counts(alice, alice_cookie):
    token = await live_link(alice)
    owner = await connected(alice_cookie)
    await start(owner)
    ann = await watcher(token)
    await owner.send_json_to({"type": "poll", "choices": CHOICES, "seconds": 30})
    await next_json(ann, "poll")
    await ann.send_json_to({"type": "vote", "choice": 1})
    await tally_of(owner, [0, 1])
    late = await watcher(token)
    assert (await next_json(late, "started"))["type"] == "started"
    poll = await next_json(late, "poll")
    assert poll["counts"] == [0, 1]
    for ws in (ann, late, owner):
        await ws.disconnect()


# -- the owner's vote messages -----------------------------------------------------


async def test_offering_a_vote_before_the_stream_starts_gets_a_sentence(
    alice_cookie,
):
    owner = await connected(alice_cookie)
    await owner.send_json_to({"type": "poll", "choices": CHOICES})
    error = await next_json(owner, "error")
    assert error["error"] == "Start the stream before offering a vote."
    await owner.disconnect()


@pytest.mark.parametrize(
    ("message", "sentence"),
    [
        ({"choices": [BLUE]}, "Offer from 2 to 4 choices."),
        ({"choices": [BLUE] * 5}, "Offer from 2 to 4 choices."),
        ({"choices": [BLUE, "  "]}, "Every choice needs the prompt"),
        ({"choices": CHOICES, "seconds": 5}, "A vote lasts from 10 to 120 seconds."),
        ({"choices": CHOICES, "seconds": 121}, "A vote lasts from 10 to 120 seconds."),
        ({"close": True}, "No vote is open."),
        ({"cancel": True}, "No vote is open."),
    ],
)
async def test_a_vote_the_stream_cannot_take_gets_a_sentence(
    alice_cookie, message, sentence
):
    owner = await connected(alice_cookie)
    await start(owner)
    await owner.send_json_to({"type": "poll", **message})
    assert (await next_json(owner, "error"))["error"].startswith(sentence)
    await owner.disconnect()


async def test_a_second_vote_waits_for_the_first_to_close(alice_cookie):
    owner = await connected(alice_cookie)
    await start(owner)
    await owner.send_json_to({"type": "poll", "choices": CHOICES})
    await next_json(owner, "poll")
    await owner.send_json_to({"type": "poll", "choices": CHOICES})
    error = await next_json(owner, "error")
    assert error["error"] == "A vote is open; close it before offering another."
    await owner.disconnect()


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"choices": "a cat"},
        {"choices": [1, 2]},
        {"choices": [{"label": "A"}, {"label": "B"}]},
        {"choices": [{"prompt": BLUE, "colour": "red"}, BLUE]},
        {"choices": [{"prompt": BLUE, "label": "x" * 61}, BLUE]},
        {"choices": ["x" * 2001, BLUE]},
        {"choices": [BLUE] * 17},
        {"choices": CHOICES, "seconds": "30"},
        {"choices": CHOICES, "close": True},
        {"close": False},
        {"close": True, "cancel": True},
        {"seconds": 30},
    ],
)
async def test_a_malformed_vote_closes_the_owners_socket_with_4400(
    alice_cookie, fields
):
    owner = await connected(alice_cookie)
    await owner.send_to(text_data=json.dumps({"type": "poll", **fields}))
    assert await close_code(owner) == 4400


async def test_a_viewer_through_a_proxy_is_counted_by_the_forwarded_address(
    alice, settings
):
    settings.STUDIO_SHARE_RATE_LIMIT = 1
    settings.STUDIO_TRUSTED_PROXIES = ["10.0.0.1"]
    token = await live_link(alice)

    def through_proxy(client: str):
        ws = communicator(
            ORIGIN,
            (b"x-forwarded-for", client.encode()),
            path=f"/ws/live/watch?share={token}",
        )
        ws.scope["client"] = ["10.0.0.1", 5000]
        return ws

    first = through_proxy("203.0.113.7")
    assert (await first.connect())[0]
    assert json.loads(await first.receive_from()) == {"type": "waiting"}
    other = through_proxy("203.0.113.8")
    assert (await other.connect())[0]
    assert json.loads(await other.receive_from()) == {"type": "waiting"}
    again = through_proxy("203.0.113.7")
    assert (await again.connect())[0]
    _, code = await refusal(again)
    assert code == 4429
    await first.disconnect()
    await other.disconnect()
