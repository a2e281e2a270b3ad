"""ZIP archives of clips: videos stored as they are, records as JSON."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


class Archive:
    """One ZIP being written; MP4s are already compressed, so stored."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive

    def add_file(self, path: Path, name: str, *, compress: bool = False) -> None:
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        self._archive.write(path, name, compress_type=method)

    def add_text(self, name: str, text: str) -> None:
        self._archive.writestr(name, text)

    def add_json(self, name: str, data: Any) -> None:
        self._archive.writestr(name, json.dumps(data, indent=2, ensure_ascii=False))


@contextmanager
def writing_archive(out: IO[bytes]) -> Iterator[Archive]:
    """Write a ZIP into ``out``; JSON and text entries are deflated."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        yield Archive(archive)
