"""Server memory while an anonymous visitor sends a 200 MB upload, under each
way the studio is served.

    python bench/upload_memory.py [--mb 200] [--no-baseline]

Starts, one after another on a fresh SQLite studio without a worker:
``manage.py runserver --noreload`` (what ``./studio.sh start`` serves),
``python -m studio.server`` (the README's production command) and, unless
``--no-baseline``, plain ``daphne`` (the production command before the
studio had its own server, whose request class parses multipart in memory).
Against each, a multipart POST of ``--mb`` MB to /accounts/login/ with no
cookies: once with a Content-Length, once chunked. A thread reads the
server's VmRSS from /proc every 10 ms meanwhile. Prints idle and peak memory,
the answer and how long it took to come; writes
bench/results/upload_memory.json.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

MB = 2**20
BOUNDARY = "bench-boundary"
SERVERS = {
    "runserver": ["manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
    "production": [
        "-m",
        "studio.server",
        "-b",
        "127.0.0.1",
        "-p",
        "{port}",
        "studio.asgi:application",
    ],
    "plain daphne (before)": [
        "-m",
        "daphne",
        "-b",
        "127.0.0.1",
        "-p",
        "{port}",
        "studio.asgi:application",
    ],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def start(name: str, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    args = [arg.format(port=port) for arg in SERVERS[name]]
    server = subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                f"http://127.0.0.1:{port}/accounts/login/", timeout=2
            )
            return server, port
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"{name} did not start")


class PeakMemory(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.01):
            self.peak = max(self.peak, rss(self.pid))


def upload(port: int, mb: int, *, is_chunked: bool) -> tuple[int, int]:
    """Send the upload; the answer's status and how many MB went out."""
    preamble = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="video"; '
        'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    epilogue = f"\r\n--{BOUNDARY}--\r\n".encode()
    piece = b"\0" * MB
    parts = [preamble, *([piece] * mb), epilogue]
    framing = ["Transfer-Encoding: chunked"]
    if not is_chunked:
        framing = [f"Content-Length: {sum(map(len, parts))}"]
    head = "\r\n".join(
        [
            "POST /accounts/login/ HTTP/1.1",
            "Host: 127.0.0.1",
            "Connection: close",
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
            *framing,
        ]
    )
    sent = 0
    with socket.create_connection(("127.0.0.1", port)) as sock:
        try:
            sock.sendall(head.encode() + b"\r\n\r\n")
            for part in parts:
                sock.sendall(
                    b"%x\r\n%s\r\n" % (len(part), part) if is_chunked else part
                )
                sent += len(part)
            if is_chunked:
                sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        sock.settimeout(300)
        try:
            answer = sock.recv(64)
        except ConnectionResetError:
            answer = b"HTTP/1.1 0 reset before an answer"
    return int(answer.split()[1]), sent // MB


def measure(name: str, env: dict[str, str], mb: int) -> dict:
    server, port = start(name, env)
    try:
        idle = rss(server.pid)
        result: dict = {"idle_mb": round(idle / MB)}
        for framing in ("content_length", "chunked"):
            watch = PeakMemory(server.pid)
            watch.start()
            t0 = time.perf_counter()
            status, sent = upload(port, mb, is_chunked=framing == "chunked")
            seconds = time.perf_counter() - t0
            watch.done.set()
            watch.join()
            result[framing] = {
                "status": status,
                "sent_mb": sent,
                "seconds": round(seconds, 3),
                "peak_mb": round(watch.peak / MB),
                "over_idle_mb": round((watch.peak - idle) / MB),
            }
            print(
                f"{name:>22} {framing:>14}: idle {idle / MB:5.0f} MB, "
                f"peak {watch.peak / MB:6.0f} MB (+{(watch.peak - idle) / MB:.0f}), "
                f"{status} after {seconds:.2f} s, {sent} MB sent"
            )
        return result
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument(
        "--out", default=str(ROOT / "bench" / "results" / "upload_memory.json")
    )
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="upload-memory-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STUDIO_MEDIA_ROOT": str(folder / "media"),
        "STUDIO_DATA_DIR": str(folder / "data"),
        "DJANGO_DEBUG": "1",
        "STUDIO_SERVICE_AUTOSTART": "0",
    }
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    names = [n for n in SERVERS if not (args.no_baseline and "before" in n)]
    result = {"upload_mb": args.mb}
    result.update({name: measure(name, env, args.mb) for name in names})
    write_results(result, args.out)


if __name__ == "__main__":
    main()
