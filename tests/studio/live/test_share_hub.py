"""The live stream's audience in one process: bounded outboxes, fan-out of
one packed frame, and vote counting."""

from __future__ import annotations

import asyncio

from studio.live.broadcast import VIEWER_FRAMES, Choice, Hub, Outbox

CHOICES = (Choice("Blue", "a blue ball"), Choice("Green", "a green ball"))


def run(coroutine):
    return asyncio.run(coroutine)


def test_a_viewer_who_reads_nothing_keeps_only_the_newest_frames():
    async def scenario():
        hub = Hub()
        slow, quick = Outbox(), Outbox()
        hub.join(1, 10, slow, limit=5)
        hub.join(1, 10, quick, limit=5)
        hub.stream_started(1, fps=8, width=32, height=32)
        got = []
        for index in range(20):
            frame = bytes([index])
            hub.publish_frame(1, frame)
            got.extend(quick.take()[1])
        return slow, got

    slow, got = run(scenario())
    # The quick viewer got every frame, the very bytes published.
    assert got == [bytes([i]) for i in range(20)]
    messages, frames, closing = slow.take()
    assert [m["type"] for m in messages] == ["waiting", "started"]
    assert frames == [bytes([i]) for i in range(20 - VIEWER_FRAMES, 20)]
    assert slow.dropped == 20 - VIEWER_FRAMES and closing is None


def test_only_the_newest_tally_waits_in_an_outbox():
    async def scenario():
        outbox = Outbox()
        for votes in range(50):
            outbox.message({"type": "tally", "counts": [votes, 0]})
        outbox.message({"type": "poll_closed"})
        outbox.message({"type": "tally", "counts": [99, 0]})
        return outbox.take()[0]

    assert run(scenario()) == [
        {"type": "tally", "counts": [99, 0]},
        {"type": "poll_closed"},
    ]


def test_frames_before_a_stream_starts_or_after_it_stops_go_nowhere():
    async def scenario():
        hub = Hub()
        outbox = Outbox()
        hub.join(1, 10, outbox, limit=5)
        hub.publish_frame(1, b"early")
        hub.stream_started(1, fps=8, width=32, height=32)
        hub.publish_frame(1, b"frame")
        hub.stream_stopped(1)
        hub.publish_frame(1, b"late")
        return outbox.take()

    messages, frames, _ = run(scenario())
    assert [m["type"] for m in messages] == ["waiting", "started", "stopped"]
    # What was waiting when the stream stopped is dropped with it.
    assert frames == []


def test_ties_go_to_the_earliest_choice_and_nobody_voting_wins_nothing():
    async def scenario():
        hub = Hub()
        owner = Outbox()
        hub.attach_owner(1, owner)
        viewers = [hub.join(1, 10, Outbox(), limit=5) for _ in range(4)]
        hub.stream_started(1, fps=8, width=32, height=32)
        three = (*CHOICES, Choice("Red", "a red ball"))
        hub.poll_open(1, three, 30)
        assert hub.poll_close(1)[1] is None
        hub.poll_open(1, three, 30)
        for viewer, choice in zip(viewers, [2, 1, 2, 1], strict=True):
            assert hub.vote(1, viewer, choice) is None
        poll, winner = hub.poll_close(1)
        return poll.counts(), winner

    counts, winner = run(scenario())
    assert counts == [0, 2, 2] and winner == CHOICES[1]


def test_a_revoked_link_closes_only_its_own_viewers():
    async def scenario():
        hub = Hub()
        first, second = Outbox(), Outbox()
        hub.join(1, 10, first, limit=5)
        hub.join(1, 11, second, limit=5)
        # A revocation comes from a Django view on another thread.
        await asyncio.to_thread(hub.drop_link, 1, 10)
        await asyncio.sleep(0)
        return first.take()[2], second.take()[2]

    assert run(scenario()) == (4404, None)


def test_the_cap_refuses_the_viewer_past_it():
    async def scenario():
        hub = Hub()
        joined = [hub.join(1, 10, Outbox(), limit=2) for _ in range(3)]
        hub.leave(1, joined[0])
        again = hub.join(1, 10, Outbox(), limit=2)
        return joined, again, hub.viewers(1)

    joined, again, count = run(scenario())
    assert joined[2] is None and again is not None and count == 2
