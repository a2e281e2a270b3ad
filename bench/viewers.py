"""Preview latency with many websocket viewers of one generation.

    python bench/viewers.py [--viewers 200] [--steps 30]

Starts the studio under Daphne (embedded defaults), queues a warm-up clip and
then the measured one behind it, connects N viewers to the measured one while
it waits, and times every binary preview from the server's publish time (the
`sent` field of the preview header) to its arrival at each viewer, on
loopback. Prints p50/p95/p99 and writes bench/results/viewers.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import struct
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from overhead import fresh_studio, submit  # noqa: E402
from report import write_results  # noqa: E402


async def viewer(
    url: str, ready: asyncio.Event, latencies: list[float], counts: list[int]
) -> None:
    import websockets

    async with websockets.connect(url, max_size=None, open_timeout=60) as ws:
        ready.set()
        seen = 0
        while True:
            msg = await asyncio.wait_for(ws.recv(), timeout=300)
            now = time.time()
            if isinstance(msg, bytes):
                (length,) = struct.unpack(">I", msg[4:8])
                header = json.loads(msg[8 : 8 + length])
                latencies.append(now - header["sent"])
                seen += 1
                continue
            if json.loads(msg)["type"] in ("succeeded", "failed", "cancelled"):
                break
        counts.append(seen)


async def run(port: int, token: str, viewers: int, body: dict) -> dict:
    submit(
        port, token, {**body, "steps": max(body["steps"], 10)}
    )  # keeps the worker busy
    target = submit(port, token, body)
    url = f"ws://127.0.0.1:{port}{target['ws_url']}?token={token}"
    latencies: list[float] = []
    counts: list[int] = []
    events = [asyncio.Event() for _ in range(viewers)]
    tasks = []
    for i in range(viewers):
        tasks.append(asyncio.create_task(viewer(url, events[i], latencies, counts)))
        if i % 20 == 19:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), timeout=120)
    await asyncio.gather(*tasks)
    return {"latencies": latencies, "counts": counts}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewers", type=int, default=200)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--out", default=str(ROOT / "results" / "viewers.json"))
    args = ap.parse_args()

    server, port, token, _ = fresh_studio("studio-viewers-")
    body = {
        "prompt": "a blue box drifting right over the sea",
        "num_frames": args.frames,
        "steps": args.steps,
        "width": 256,
        "height": 256,
        "seed": 5,
    }
    try:
        result = asyncio.run(run(port, token, args.viewers, body))
    finally:
        server.terminate()
        server.wait(timeout=10)
    lat = sorted(result["latencies"])

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000

    summary = {
        "viewers": args.viewers,
        "steps": args.steps,
        "previews_received": len(lat),
        "previews_per_viewer_min": min(result["counts"]),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "max_ms": lat[-1] * 1000,
    }
    print(
        f"{args.viewers} viewers × {args.steps} steps: {len(lat)} previews received "
        f"(fewest per viewer: {summary['previews_per_viewer_min']})"
    )
    print(
        f"latency p50 {summary['p50_ms']:.1f} ms  p95 {summary['p95_ms']:.1f} ms  "
        f"p99 {summary['p99_ms']:.1f} ms (target ≤ 100 ms)  max {summary['max_ms']:.1f} ms"
    )
    write_results(summary, args.out)


if __name__ == "__main__":
    main()
