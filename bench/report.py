"""Where the benchmarks put what they measured."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_results(result: dict[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write ``result`` as indented JSON to ``path`` (folders made as needed)
    and say where."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return out
