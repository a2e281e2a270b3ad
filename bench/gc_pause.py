"""How long a full garbage collection stalls the server, with and without
the loaded model and the studio's modules frozen out of the collector's way.

    python bench/gc_pause.py [--rounds 15]

Sets the studio up as a server process has it (Django, the ASGI app and its
imports), loads the built-in model through the adapter registry (which
freezes what is loaded), then times ``gc.collect()`` alternately frozen (as
the server runs) and unfrozen (as it ran before), side by side, each right
after a short clip, so both scan what a clip leaves behind. A full
collection holds the GIL: every thread of the server, the websocket relays and
the clip being rendered, waits for it. Writes bench/results/gc_pause.json.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from report import write_results  # noqa: E402


def timed_collection() -> float:
    t0 = time.perf_counter()
    gc.collect()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "gc_pause.json"))
    args = ap.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
    import django

    django.setup()
    import studio.asgi  # noqa: F401  the server's own imports
    from generation.adapters import get_adapter
    from generation.specs import GenerationSpec

    adapter = get_adapter("builtin", "cpu")
    spec = GenerationSpec(prompt="a red ball bouncing", num_inference_steps=4)
    frozen_objects = gc.get_freeze_count()
    frozen, unfrozen = [], []
    for _ in range(args.rounds):
        adapter.generate(spec)
        frozen.append(timed_collection())
        gc.unfreeze()
        adapter.generate(spec)
        unfrozen.append(timed_collection())
        gc.freeze()
    result = {
        "rounds": args.rounds,
        "frozen_objects": frozen_objects,
        "tracked_objects_unfrozen": len(gc.get_objects()) + gc.get_freeze_count(),
        "frozen_s": frozen,
        "unfrozen_s": unfrozen,
        "frozen_median_ms": 1000 * statistics.median(frozen),
        "unfrozen_median_ms": 1000 * statistics.median(unfrozen),
    }
    result["ratio"] = result["unfrozen_median_ms"] / result["frozen_median_ms"]
    print(f"objects frozen after the model loads: {frozen_objects:,}")
    print(
        f"full collection, unfrozen {result['unfrozen_median_ms']:.1f} ms; "
        f"frozen {result['frozen_median_ms']:.2f} ms "
        f"({result['ratio']:,.0f}× shorter; medians of {args.rounds})"
    )
    write_results(result, args.out)


if __name__ == "__main__":
    main()
