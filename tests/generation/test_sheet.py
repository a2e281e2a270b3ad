from __future__ import annotations

import numpy as np
from PIL import Image

from generation.sheet import SheetShot, pick_frames, write_sheet_pdf, write_sheet_png


def shots(count: int) -> list[SheetShot]:
    frames = np.zeros((8, 48, 64, 3), dtype=np.uint8)
    frames[:, :, :, 0] = np.arange(8)[:, None, None] * 30
    return [
        SheetShot(
            number=n + 1,
            kind="Close-up",
            duration=1.5,
            prompt="a red ball bouncing to the right",
            caption="Look out!",
            frames=frames if n % 2 == 0 else None,
        )
        for n in range(count)
    ]


def test_it_picks_the_first_middle_and_last_frames():
    frames = np.arange(9)[:, None, None, None] * np.ones((9, 2, 2, 3), np.uint8)
    assert [int(f[0, 0, 0]) for f in pick_frames(frames)] == [0, 4, 8]
    assert pick_frames(None) == []


def test_the_png_sheet_has_a_row_per_shot_with_frames(tmp_path):
    path = write_sheet_png("Valley", shots(3), tmp_path / "sheet.png")
    image = Image.open(path)
    assert image.format == "PNG"
    taller = Image.open(write_sheet_png("Valley", shots(6), tmp_path / "six.png"))
    assert taller.height > image.height
    # The first shot's first frame is black, its last frame red.
    pixels = np.asarray(image.convert("RGB"))
    assert (pixels[:, :, 0] > 150).any()


def test_the_pdf_sheet_spreads_many_shots_over_pages(tmp_path):
    path = write_sheet_pdf("Valley", shots(8), tmp_path / "sheet.pdf")
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    assert data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") >= 2 or (
        data.count(b"/Page") >= 3
    )
