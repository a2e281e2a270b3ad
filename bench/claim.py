"""Claiming the next job over a long history: with and without its index.

    python bench/claim.py [--owners 20] [--history 2500] [--waiting 10] [--rounds 12]

Builds a throwaway SQLite database with OWNERS creators, each with HISTORY
finished clips, of whom WAITING have three queued jobs each. Then times
the worker's claim (`OrmJobStore.claim_next`: the fair pick, the conditional
UPDATE, the queue-position query) and the fair pick alone, alternating rounds
with the (owner, started) index dropped and in place, so drift on a noisy
machine hits both. The claimed job goes back to the queue after each claim.
Prints medians and the ratio, and writes bench/results/claim.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402

INDEX = "generation_owner_started"


def setup_django(folder: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["STUDIO_MEDIA_ROOT"] = str(folder / "media")
    os.environ["STUDIO_DATA_DIR"] = str(folder / "data")
    os.environ["STUDIO_SERVICE_AUTOSTART"] = "0"
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(owners: int, history: int, waiting: int) -> None:
    from django.contrib.auth.models import User
    from django.utils import timezone

    from studio.generations.models import Generation

    settings = {
        "prompt": "a red ball bouncing to the right",
        "num_frames": 16,
        "fps": 8,
        "width": 256,
        "height": 256,
        "seed": 1,
        "model": "builtin",
    }
    now = timezone.now()
    users = [User.objects.create_user(f"creator{n}") for n in range(owners)]
    rows = [
        Generation(
            owner=user,
            prompt=settings["prompt"],
            settings=settings,
            seed=n,
            status=Generation.Status.SUCCEEDED,
            started=now - timedelta(seconds=7 * n + user.pk),
            finished=now - timedelta(seconds=7 * n),
        )
        for user in users
        for n in range(history)
    ]
    rows += [
        Generation(owner=user, prompt=settings["prompt"], settings=settings, seed=n)
        for user in users[:waiting]
        for n in range(3)
    ]
    Generation.objects.bulk_create(rows, batch_size=2000)


def set_index(present: bool) -> None:
    from django.db import connection

    from studio.generations.models import Generation

    index = next(i for i in Generation._meta.indexes if i.name == INDEX)
    with connection.schema_editor() as editor:
        if present:
            editor.add_index(Generation, index)
        else:
            editor.remove_index(Generation, index)


def time_claims(claims: int) -> dict[str, float]:
    from studio.generations.models import Generation
    from studio.generations.store import OrmJobStore, fair_queue

    store = OrmJobStore()
    claim_times, pick_times = [], []
    for _ in range(claims):
        t0 = time.perf_counter()
        list(fair_queue().only("pk", "owner_id", "settings")[:1])
        pick_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        job = store.claim_next()
        claim_times.append(time.perf_counter() - t0)
        Generation.objects.filter(pk=job.id).update(status=Generation.Status.QUEUED)
    return {
        "claim_ms": 1000 * statistics.median(claim_times),
        "pick_ms": 1000 * statistics.median(pick_times),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--owners", type=int, default=20)
    ap.add_argument("--history", type=int, default=2500, help="finished clips each")
    ap.add_argument("--waiting", type=int, default=10, help="owners with 3 queued")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--claims", type=int, default=10, help="claims per round")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "claim.json"))
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="studio-queue-"))
    setup_django(folder)
    t0 = time.perf_counter()
    fill(args.owners, args.history, min(args.waiting, args.owners))
    print(
        f"{args.owners} creators × {args.history} clips, "
        f"{min(args.waiting, args.owners) * 3} queued "
        f"(built in {time.perf_counter() - t0:.1f} s)"
    )
    runs: dict[str, list[dict[str, float]]] = {"without": [], "with": []}
    present = True
    for r in range(args.rounds):
        for name in ("without", "with"):
            wanted = name == "with"
            if present != wanted:
                set_index(wanted)
                present = wanted
            time_claims(1)  # the first query after a schema change plans afresh
            runs[name].append(time_claims(args.claims))
        print(
            f"round {r + 1}: claim without index {runs['without'][-1]['claim_ms']:.2f} ms"
            f" · with {runs['with'][-1]['claim_ms']:.2f} ms"
        )
    if not present:
        set_index(True)

    def median(name: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[name])

    result = {
        "settings": vars(args) | {"database": "sqlite"},
        "rounds": runs,
        "claim_ms": {name: median(name, "claim_ms") for name in runs},
        "pick_ms": {name: median(name, "pick_ms") for name in runs},
    }
    result["claim_ratio_without_over_with"] = (
        result["claim_ms"]["without"] / result["claim_ms"]["with"]
    )
    print(
        f"\nclaim (pick + UPDATE + positions): without the index "
        f"{result['claim_ms']['without']:.2f} ms, with "
        f"{result['claim_ms']['with']:.2f} ms — "
        f"{result['claim_ratio_without_over_with']:.1f}× faster"
    )
    print(
        f"fair pick alone: without {result['pick_ms']['without']:.2f} ms, "
        f"with {result['pick_ms']['with']:.2f} ms"
    )
    write_results(result, args.out)


if __name__ == "__main__":
    main()
