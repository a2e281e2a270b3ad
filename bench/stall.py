"""Does one signed-in creator's absurd number stall everyone else?

    python bench/stall.py [--rounds 5]

Starts ``python -m studio.server`` on a fresh SQLite studio without a worker,
signs a creator in over HTTP, then, for each attack, sends the coach a
duration no clip can have (``1e999999``: a million-digit frame count if
multiplied out; ``1e999999999``: past what ``Decimal`` holds) while a
bystander thread keeps loading the sign-in page. Prints the attacker's answer
and time, and the bystander's slowest and median page beside the same page
with no attack, measured in the same run; writes bench/results/stall.json.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402
from upload_memory import start  # noqa: E402

PASSWORD = "a-long-enough-passphrase"
ATTACKS = ["1e999999", "1e999999999", "nan", "2.5"]


def page_time(url: str) -> float:
    began = time.perf_counter()
    with urllib.request.urlopen(url, timeout=600) as response:
        response.read()
    return time.perf_counter() - began


def signed_in(base: str) -> tuple[urllib.request.OpenerDirector, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/accounts/login/").read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    body = urllib.parse.urlencode(
        {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
    ).encode()
    opener.open(f"{base}/accounts/login/", data=body).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    return opener, csrf


def attack(
    opener: urllib.request.OpenerDirector, base: str, csrf: str, duration: str
) -> tuple[int, float]:
    body = urllib.parse.urlencode({"prompt": "x", "duration": duration}).encode()
    request = urllib.request.Request(
        f"{base}/prompts/coach/", data=body, headers={"X-CSRFToken": csrf}
    )
    began = time.perf_counter()
    try:
        with opener.open(request, timeout=600) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as refused:
        status = refused.code
    return status, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench/results/stall.json"))
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="stall-"))
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(folder / "media"),
        "STUDIO_DATA_DIR": str(folder / "data"),
        "STUDIO_SERVICE_AUTOSTART": "0",
    }
    env.pop("REDIS_URL", None)
    manage = [sys.executable, "manage.py"]
    run = dict(cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*manage, "migrate", "--noinput"], **run)
    create = (
        "from django.contrib.auth.models import User;"
        f"User.objects.create_user('alice', password='{PASSWORD}')"
    )
    subprocess.run([*manage, "shell", "-c", create], **run)

    server, port = start("production", env)
    base = f"http://127.0.0.1:{port}"
    bystander_url = f"{base}/accounts/login/"
    results: dict[str, object] = {}
    try:
        opener, csrf = signed_in(base)
        quiet = [page_time(bystander_url) for _ in range(20)]
        results["bystander_alone_median_s"] = statistics.median(quiet)
        print(f"bystander alone: median {statistics.median(quiet) * 1000:.1f} ms")
        for duration in ATTACKS:
            rows = []
            for _ in range(args.rounds):
                seen: list[float] = []
                stop = threading.Event()

                def bystander(seen=seen, stop=stop) -> None:
                    while not stop.is_set():
                        seen.append(page_time(bystander_url))

                thread = threading.Thread(target=bystander)
                thread.start()
                status, took = attack(opener, base, csrf, duration)
                stop.set()
                thread.join()
                rows.append((status, took, max(seen), statistics.median(seen)))
            statuses = sorted({row[0] for row in rows})
            took = statistics.median(row[1] for row in rows)
            slowest = max(row[2] for row in rows)
            median = statistics.median(row[3] for row in rows)
            results[duration] = {
                "statuses": statuses,
                "attacker_median_s": took,
                "bystander_slowest_s": slowest,
                "bystander_median_s": median,
                "bystander_median_vs_alone": median
                / results["bystander_alone_median_s"],
            }
            print(
                f"duration={duration:>12}: attacker {statuses} in "
                f"{took * 1000:.1f} ms; bystander slowest {slowest * 1000:.1f} ms, "
                f"median {median * 1000:.1f} ms "
                f"({median / results['bystander_alone_median_s']:.2f}× alone)"
            )
    finally:
        server.terminate()
        server.wait(60)
    write_results(results, args.out)


if __name__ == "__main__":
    main()
