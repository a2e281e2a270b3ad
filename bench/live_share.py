"""One live stream watched by many viewers through its share link.

    python bench/live_share.py [--viewers 100] [--seconds 20] [--fps 8] [--size 128]

Starts the studio under Daphne in a temporary folder (embedded defaults),
makes a live share link through ``POST /api/live/shares``, connects
``--viewers`` websocket clients to ``/ws/live/watch?share=<token>`` on
loopback, then starts the creator's stream over ``/ws/live`` (an API token)
and runs it for ``--seconds``.

Every frame's header carries ``sent_at``: when the server handed the packed
frame to the creator's socket and to the viewers' queues (the same moment,
the same bytes). Delay is a client's receive time minus ``sent_at``, on one
machine's clock. Side by side in one run: the creator's own delay and the
viewers', and the share of the frames the creator got that each viewer got.

Goals: every viewer receives ≥ 95 % of the frames; p99 delay ≤ 150 ms.
Prints the figures and writes bench/results/live_share.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import struct
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from overhead import free_port, manage, start_server  # noqa: E402
from report import write_results  # noqa: E402

GOALS = {"received": 0.95, "p99_ms": 150.0}
PROMPT = "a red ball bouncing to the right on a sunny day"


def header_of(message: bytes) -> dict:
    (length,) = struct.unpack(">I", message[4:8])
    return json.loads(message[8 : 8 + length])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def studio(prefix: str) -> tuple[dict[str, str], str]:
    """A fresh studio's environment and an API token of its one user. The
    share rate limit is lifted: every viewer here comes from 127.0.0.1."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(tmp / "media"),
        "STUDIO_DATA_DIR": str(tmp / "data"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SERVICE_AUTOSTART": "0",
        "STUDIO_SHARE_RATE_LIMIT": "100000",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    manage(env, "migrate", "-v", "0")
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "User.objects.create_user('bench', password='bench-passphrase-123')",
    )
    token = manage(env, "apitoken", "bench").strip().splitlines()[-1]
    return env, token


def share_link(port: int, token: str) -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/live/shares",
        data=b"{}",
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=60) as response:
        url = json.loads(response.read())["url"]
    return url.rstrip("/").rsplit("/", 1)[-1]


async def viewer(url: str, origin: str, joined: asyncio.Event, out: dict) -> None:
    import websockets

    async with websockets.connect(
        url, origin=origin, max_size=None, open_timeout=120
    ) as ws:
        first = json.loads(await ws.recv())
        assert first["type"] == "waiting", first
        joined.set()
        while True:
            message = await asyncio.wait_for(ws.recv(), timeout=300)
            now = time.time() * 1000
            if isinstance(message, bytes):
                header = header_of(message)
                out["frames"][header["index"]] = now - header["sent_at"]
            elif json.loads(message)["type"] == "stopped":
                return


async def run(port: int, token: str, share: str, args) -> dict:
    import websockets

    base = f"ws://127.0.0.1:{port}"
    origin = f"http://127.0.0.1:{port}"
    results = [{"frames": {}} for _ in range(args.viewers)]
    joined = [asyncio.Event() for _ in range(args.viewers)]
    tasks = []
    for out, event in zip(results, joined, strict=True):
        url = f"{base}/ws/live/watch?share={share}"
        tasks.append(asyncio.create_task(viewer(url, origin, event, out)))
    await asyncio.gather(*(event.wait() for event in joined))

    owner_frames: dict[int, float] = {}
    viewer_counts = []
    async with websockets.connect(
        f"{base}/ws/live?token={token}", max_size=None, open_timeout=120
    ) as owner:
        start = {
            "type": "start",
            "prompt": PROMPT,
            "seed": 1,
            "fps": args.fps,
            "width": args.size,
            "height": args.size,
        }
        await owner.send(json.dumps(start))
        ends = None
        while ends is None or time.monotonic() < ends:
            message = await asyncio.wait_for(owner.recv(), timeout=600)
            now = time.time() * 1000
            if isinstance(message, bytes):
                header = header_of(message)
                owner_frames[header["index"]] = now - header["sent_at"]
                continue
            kind = json.loads(message)
            if kind["type"] == "started":
                ends = time.monotonic() + args.seconds
            elif kind["type"] == "viewers":
                viewer_counts.append(kind["count"])
            elif kind["type"] == "error":
                raise RuntimeError(kind["error"])
        await owner.send(json.dumps({"type": "stop"}))
        while True:
            message = await asyncio.wait_for(owner.recv(), timeout=120)
            if isinstance(message, bytes):
                header = header_of(message)
                owner_frames[header["index"]] = time.time() * 1000 - header["sent_at"]
            elif json.loads(message)["type"] == "stopped":
                break
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=300)

    published = set(owner_frames)
    shares = [len(published & set(r["frames"])) / len(published) for r in results]
    delays = [d for r in results for i, d in r["frames"].items() if i in published]
    own = list(owner_frames.values())
    figures = {
        "viewers": args.viewers,
        "seconds": args.seconds,
        "fps_asked": args.fps,
        "size": args.size,
        "frames_published": len(published),
        "fps_published": round(len(published) / args.seconds, 2),
        "viewer_count_seen_by_owner": max(viewer_counts, default=0),
        "received_min": round(min(shares), 4),
        "received_mean": round(statistics.fmean(shares), 4),
        "viewer_delay_ms": {
            "p50": round(percentile(delays, 50), 1),
            "p95": round(percentile(delays, 95), 1),
            "p99": round(percentile(delays, 99), 1),
            "max": round(max(delays), 1),
        },
        "owner_delay_ms": {
            "p50": round(percentile(own, 50), 1),
            "p95": round(percentile(own, 95), 1),
            "p99": round(percentile(own, 99), 1),
        },
    }
    figures["viewer_over_owner_p50"] = round(
        figures["viewer_delay_ms"]["p50"] / max(figures["owner_delay_ms"]["p50"], 0.1),
        2,
    )
    figures["goals"] = GOALS
    figures["met"] = {
        "received": figures["received_min"] >= GOALS["received"],
        "p99_ms": figures["viewer_delay_ms"]["p99"] <= GOALS["p99_ms"],
    }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--fps", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--out", default=str(ROOT / "results" / "live_share.json"))
    args = parser.parse_args()

    env, token = studio("live-share-")
    port = free_port()
    server = start_server(env, port)
    try:
        share = share_link(port, token)
        figures = asyncio.run(run(port, token, share, args))
    finally:
        server.terminate()
        server.wait(30)
    figures["command"] = "python bench/live_share.py " + " ".join(sys.argv[1:])
    print(
        f"{figures['viewers']} viewers, {figures['frames_published']} frames "
        f"published in {args.seconds:g} s ({figures['fps_published']} fps, "
        f"{args.size}×{args.size})"
    )
    print(
        f"received: min {figures['received_min']:.1%}, "
        f"mean {figures['received_mean']:.1%} (goal ≥ 95 %)"
    )
    v, o = figures["viewer_delay_ms"], figures["owner_delay_ms"]
    print(
        f"delay, viewers: p50 {v['p50']} ms, p95 {v['p95']} ms, p99 {v['p99']} ms "
        f"(goal p99 ≤ 150 ms), max {v['max']} ms"
    )
    print(
        f"delay, creator: p50 {o['p50']} ms, p95 {o['p95']} ms, p99 {o['p99']} ms; "
        f"viewers' p50 ÷ creator's p50 = {figures['viewer_over_owner_p50']}"
    )
    write_results(figures, args.out)


if __name__ == "__main__":
    main()
