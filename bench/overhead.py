"""The studio's overhead over a raw pipeline call, measured side by side.

    python bench/overhead.py [--rounds 15] [--frames 16] [--steps 20] [--separate-worker]

(a) calls the built-in pipeline directly; (b) goes through the studio: a
Daphne server with its in-process generation service, `POST /api/generations`
with an API token, the websocket at `ws_url` until `succeeded` (MP4 and poster
stored). Rounds alternate a and b so drift on a noisy machine hits both.
Prints the ratio b/a, submit → first preview latency against one step, and the
preview work (prediction → small frames → JPEG strip) as a share of step time,
and the ratio split in two: how much slower the studio's denoising steps run
(first → last step; the raw call records a timestamp at each step's end, and
nothing more) and the fixed time it adds outside them (the request, the first
step's delivery, the MP4, its signing and the row), hence the raw clip length
from which the ratio is ≤ 1.03. Writes bench/results/overhead.json.

--separate-worker runs (b) the way several machines would: the Daphne server
without a worker, `manage.py worker` in a process of its own, both on Redis
(REDIS_URL, default redis://127.0.0.1:6379/9); writes overhead-worker.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

PROMPT = "a red ball bouncing to the right, slow push-in"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout


def start_server(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "studio.asgi:application",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/accounts/login/", timeout=2
            )
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("server did not start: " + server.stderr.read().decode()[-2000:])


def fresh_studio(
    prefix: str, redis_url: str | None = None
) -> tuple[subprocess.Popen, int, str, subprocess.Popen | None]:
    """A studio in a temporary folder, with one user: on the embedded
    defaults, or with ``redis_url`` a server on Redis and a separate worker.

    Returns the Daphne server, its port, the user's API token and the worker.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(tmp / "media"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SERVICE_AUTOSTART": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    if redis_url:
        env.update(REDIS_URL=redis_url, STUDIO_SERVICE_AUTOSTART="false")
    manage(env, "migrate", "-v", "0")
    manage(
        env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User;"
        "User.objects.create_user('bench', password='bench-passphrase-123')",
    )
    token = manage(env, "apitoken", "bench").strip().splitlines()[-1]
    port = free_port()
    worker = None
    if redis_url:
        log = tmp / "worker.log"
        with log.open("w") as out:
            worker = subprocess.Popen(
                [sys.executable, "manage.py", "worker", "--device", "cpu"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 120
        while "is waiting for clips" not in log.read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the worker did not start: " + log.read_text())
            time.sleep(0.2)
    return start_server(env, port), port, token, worker


def submit(port: int, token: str, body: dict) -> dict:
    """POST /api/generations with an API token; the created job's state."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/generations",
        data=json.dumps(body).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
        },
        method="POST",
    )
    return json.loads(urllib.request.urlopen(req, timeout=30).read())


async def studio_run(port: int, token: str, body: dict) -> dict[str, float]:
    import websockets

    started = time.perf_counter()
    created = submit(port, token, body)
    submitted = time.perf_counter()
    first_preview = last_preview = None
    previews = 0
    url = f"ws://127.0.0.1:{port}{created['ws_url']}?token={token}"
    async with websockets.connect(url, max_size=None) as ws:
        while True:
            msg = await asyncio.wait_for(ws.recv(), timeout=120)
            if isinstance(msg, bytes):
                previews += 1
                last_preview = time.perf_counter()
                if first_preview is None:
                    first_preview = last_preview
                continue
            event = json.loads(msg)
            if event["type"] == "succeeded":
                break
            if event["type"] in ("failed", "cancelled"):
                raise RuntimeError(f"generation {event}")
    done = time.perf_counter()
    return {
        "total": done - started,
        "first_preview": (first_preview or done) - started,
        "submit": submitted - started,
        "last_preview": (last_preview or done) - started,
        "previews": previews,
    }


def split_round(raw: dict[str, float], studio: dict[str, float]) -> dict[str, float]:
    """One round's studio time as stretched steps plus a fixed part.

    Both runs time their first → last step: the raw call by a timestamp at
    each step's end, the studio by the first and last preview to arrive.
    """
    studio_steps = studio["last_preview"] - studio["first_preview"]
    return {
        "step_ratio": studio_steps / raw["steps"],
        "fixed_s": (studio["total"] - studio_steps) - (raw["total"] - raw["steps"]),
    }


def preview_cost(pipe, frames: int, steps: int, guidance: float) -> dict[str, float]:
    """Seconds of preview work per step vs seconds per step, on the real tensors."""
    import torch

    from generation.previews import encode_strip, tensor_to_frames

    times, step_times = [], []
    last = [time.perf_counter()]

    def on_step(p, i, t, kwargs):
        now = time.perf_counter()
        step_times.append(now - last[0])
        t0 = time.perf_counter()
        encode_strip(tensor_to_frames(kwargs["pred_x0"][0]))
        times.append(time.perf_counter() - t0)
        last[0] = time.perf_counter()
        return kwargs

    pipe(
        PROMPT,
        num_frames=frames,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=torch.Generator().manual_seed(0),
        callback_on_step_end=on_step,
        callback_on_step_end_tensor_inputs=["latents", "pred_x0"],
    )
    return {
        "preview_s": statistics.median(times),
        "step_s": statistics.median(step_times),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--size", type=int, default=256, help="output width and height")
    ap.add_argument("--out", default=None, help="JSON results path")
    ap.add_argument(
        "--separate-worker",
        action="store_true",
        help="render in `manage.py worker` beside a server without one, on Redis",
    )
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    args = ap.parse_args()
    name = "overhead-worker.json" if args.separate_worker else "overhead.json"
    args.out = args.out or str(ROOT / "bench" / "results" / name)

    import torch

    from generation.builtin.pipeline import WEIGHTS_DIR, BuiltinVideoPipeline

    server, port, token, worker = fresh_studio(
        "studio-bench-", args.redis_url if args.separate_worker else None
    )
    body = {
        "prompt": PROMPT,
        "num_frames": args.frames,
        "fps": 8,
        "width": args.size,
        "height": args.size,
        "steps": args.steps,
        "guidance": args.guidance,
        "seed": 1,
    }
    try:
        pipe = BuiltinVideoPipeline.from_pretrained(WEIGHTS_DIR)
        pipe.set_progress_bar_config(disable=True)

        def raw() -> dict[str, float]:
            # The only addition to the bare call: a timestamp at each step's end.
            ends: list[float] = []

            def stamp(p, i, t, kwargs):
                ends.append(time.perf_counter())
                return kwargs

            t0 = time.perf_counter()
            pipe(
                PROMPT,
                num_frames=args.frames,
                num_inference_steps=args.steps,
                guidance_scale=args.guidance,
                generator=torch.Generator().manual_seed(1),
                callback_on_step_end=stamp,
            )
            return {"total": time.perf_counter() - t0, "steps": ends[-1] - ends[0]}

        raw()  # warm-up: weights, text encoder, allocator
        asyncio.run(
            studio_run(port, token, body)
        )  # warm-up: the server loads its model
        raws, studios = [], []
        for r in range(args.rounds):
            raws.append(raw())
            studios.append(asyncio.run(studio_run(port, token, body)))
            print(
                f"round {r + 1}: raw {raws[-1]['total']:.3f}s  "
                f"studio {studios[-1]['total']:.3f}s "
                f"first preview {studios[-1]['first_preview'] * 1000:.0f} ms"
            )
        cost = preview_cost(pipe, args.frames, args.steps, args.guidance)
    finally:
        server.terminate()
        server.wait(timeout=10)
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)

    raw_s = statistics.median(r["total"] for r in raws)
    split = [split_round(r, s) for r, s in zip(raws, studios, strict=True)]
    step_ratio = statistics.median(x["step_ratio"] for x in split)
    fixed_s = statistics.median(x["fixed_s"] for x in split)
    # A clip whose raw call takes T runs through the studio in about
    # T * step_ratio + fixed_s, so the ratio reaches 1.03 from T = this on.
    break_even = fixed_s / (1.03 - step_ratio) if step_ratio < 1.03 else None
    studio_s = statistics.median(s["total"] for s in studios)
    first = statistics.median(s["first_preview"] for s in studios)
    step = raw_s / args.steps
    result = {
        "settings": {
            **body,
            "rounds": args.rounds,
            "threads": torch.get_num_threads(),
            "separate_worker": args.separate_worker,
        },
        "raw_s": [r["total"] for r in raws],
        "studio_s": [s["total"] for s in studios],
        "ratio": studio_s / raw_s,
        # Each round's own ratio: the two runs of a round sit next to each other.
        "round_ratio_median": statistics.median(
            s["total"] / r["total"] for s, r in zip(studios, raws, strict=True)
        ),
        # The ratio split in two, medians of the rounds: how much slower the
        # studio's denoising steps run, and what it adds outside them.
        "step_ratio": step_ratio,
        "fixed_ms": fixed_s * 1000,
        "ratio_1_03_from_raw_s": break_even,
        "first_preview_ms": first * 1000,
        "step_ms": step * 1000,
        "first_preview_minus_step_ms": (first - step) * 1000,
        "previews_per_run": studios[-1]["previews"],
        # Where the studio's time goes, medians over the rounds (client clock).
        "phases_ms": {
            "post_request": 1000 * statistics.median(s["submit"] for s in studios),
            "to_first_preview": 1000 * first,
            "first_to_last_preview": 1000
            * statistics.median(
                s["last_preview"] - s["first_preview"] for s in studios
            ),
            "raw_steps_after_first": 1000 * statistics.median(r["steps"] for r in raws),
            "last_preview_to_succeeded": 1000
            * statistics.median(s["total"] - s["last_preview"] for s in studios),
        },
        "preview_ms": cost["preview_s"] * 1000,
        "preview_share_of_step": cost["preview_s"] / cost["step_s"],
    }
    print(f"\nraw pipeline   {raw_s:.3f} s (median of {args.rounds})")
    print(
        f"through studio {studio_s:.3f} s  ratio {result['ratio']:.3f} (target ≤ 1.03); "
        f"median of the rounds' own ratios {result['round_ratio_median']:.3f}"
    )
    print(
        f"first preview  {first * 1000:.0f} ms after submit; one step {step * 1000:.0f} ms "
        f"(target ≤ step + 50 ms: {(first - step) * 1000:+.0f} ms)"
    )
    print(
        f"preview work   {cost['preview_s'] * 1000:.2f} ms a step = "
        f"{result['preview_share_of_step']:.1%} of a step (target ≤ 3 %)"
    )
    phases = result["phases_ms"]
    print(
        "phases (ms)    "
        f"POST {phases['post_request']:.0f} · to first preview "
        f"{phases['to_first_preview']:.0f} · first → last preview "
        f"{phases['first_to_last_preview']:.0f} (raw steps "
        f"{phases['raw_steps_after_first']:.0f}) · last preview → succeeded "
        f"{phases['last_preview_to_succeeded']:.0f}"
    )
    print(
        f"split          steps {step_ratio:.3f}× the raw steps (first → last step); "
        f"{fixed_s * 1000:+.0f} ms a clip outside them"
    )
    if break_even is not None:
        print(
            f"               so the ratio is ≤ 1.03 for clips whose raw call takes "
            f"≥ {break_even:.2f} s"
        )
    write_results(result, args.out)


if __name__ == "__main__":
    main()
