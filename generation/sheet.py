"""A printable storyboard sheet: per shot a few frames, its type, length and text.

Pillow draws the rows; the PNG is one tall image, the PDF puts a few rows on
each A4-proportioned page.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FRAMES_PER_SHOT = 3
THUMB_HEIGHT = 120
PAGE_WIDTH = 1240
MARGIN = 40
ROW_GAP = 24
ROWS_PER_PAGE = 6
TEXT_WIDTH = 430
BACKGROUND = (255, 255, 255)
INK = (20, 20, 24)
MUTED = (110, 110, 120)
EMPTY = (226, 226, 232)


@dataclass(frozen=True)
class SheetShot:
    """One row of the sheet; ``frames`` is uint8 (T, H, W, 3) or None."""

    number: int
    kind: str
    duration: float
    prompt: str
    caption: str = ""
    notes: str = ""
    frames: np.ndarray | None = None


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):
        return ImageFont.load_default()


def pick_frames(frames: np.ndarray | None, count: int = FRAMES_PER_SHOT) -> list:
    """The first, middle and last frames (or fewer, for a shorter clip)."""
    if frames is None or len(frames) == 0:
        return []
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round()
    return [frames[int(i)] for i in picks]


def _row(shot: SheetShot, width: int) -> Image.Image:
    thumbs = pick_frames(shot.frames)
    if thumbs:
        h, w = thumbs[0].shape[:2]
        thumb_width = max(1, round(THUMB_HEIGHT * w / h))
    else:
        thumb_width = round(THUMB_HEIGHT * 16 / 9)
    text_left = MARGIN + FRAMES_PER_SHOT * (thumb_width + 8) + 16
    text_width = max(TEXT_WIDTH, width - text_left - MARGIN)
    title, body = _font(22), _font(16)
    chars = max(20, int(text_width / 8.5))
    lines = [(title, f"{shot.number}. {shot.kind} · {shot.duration:g} s", INK)]
    for label, text in (("", shot.prompt), ("Caption: ", shot.caption)):
        if not text:
            continue
        for line in textwrap.wrap(label + text, chars)[:4]:
            lines.append((body, line, INK if not label else MUTED))
    if shot.notes:
        lines += [(body, line, MUTED) for line in textwrap.wrap(shot.notes, chars)[:2]]
    text_height = 30 + 22 * (len(lines) - 1)
    height = max(THUMB_HEIGHT, text_height)
    row = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(row)
    for n in range(FRAMES_PER_SHOT):
        left = MARGIN + n * (thumb_width + 8)
        box = (left, 0, left + thumb_width - 1, THUMB_HEIGHT - 1)
        if n < len(thumbs):
            image = Image.fromarray(thumbs[n]).resize((thumb_width, THUMB_HEIGHT))
            row.paste(image, box[:2])
        else:
            draw.rectangle(box, fill=EMPTY)
        draw.rectangle(box, outline=MUTED)
    top = 0
    for n, (font, text, colour) in enumerate(lines):
        draw.text((text_left, top), text, font=font, fill=colour)
        top += 30 if n == 0 else 22
    return row


def _heading(title: str, width: int) -> Image.Image:
    image = Image.new("RGB", (width, 60), BACKGROUND)
    ImageDraw.Draw(image).text((MARGIN, 10), title, font=_font(30), fill=INK)
    return image


def _stack(parts: Sequence[Image.Image], width: int) -> Image.Image:
    height = MARGIN * 2 + sum(p.height for p in parts) + ROW_GAP * (len(parts) - 1)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    top = MARGIN
    for part in parts:
        sheet.paste(part, (0, top))
        top += part.height + ROW_GAP
    return sheet


def sheet_image(title: str, shots: Sequence[SheetShot], width: int = PAGE_WIDTH):
    """The whole sheet as one image: a heading, then one row per shot."""
    return _stack([_heading(title, width), *(_row(s, width) for s in shots)], width)


def _target(path: str | os.PathLike[str] | BinaryIO) -> Path | BinaryIO:
    return path if hasattr(path, "write") else Path(path)


def write_sheet_png(
    title: str, shots: Sequence[SheetShot], path: str | os.PathLike[str] | BinaryIO
) -> Path | BinaryIO:
    """Write the sheet as one PNG to a path or a binary file; returns it."""
    target = _target(path)
    sheet_image(title, shots).save(target, format="PNG", optimize=True)
    return target


def write_sheet_pdf(
    title: str, shots: Sequence[SheetShot], path: str | os.PathLike[str] | BinaryIO
) -> Path | BinaryIO:
    """Write the sheet as a PDF, ``ROWS_PER_PAGE`` shots a page; returns it."""
    path = _target(path)
    page_height = round(PAGE_WIDTH * 297 / 210)
    pages = []
    for start in range(0, max(len(shots), 1), ROWS_PER_PAGE):
        rows = [_row(s, PAGE_WIDTH) for s in shots[start : start + ROWS_PER_PAGE]]
        heading = f"{title} ({start // ROWS_PER_PAGE + 1})" if start else title
        content = _stack([_heading(heading, PAGE_WIDTH), *rows], PAGE_WIDTH)
        page = Image.new("RGB", (PAGE_WIDTH, max(page_height, content.height)), "white")
        page.paste(content, (0, 0))
        pages.append(page)
    pages[0].save(
        path, format="PDF", save_all=True, append_images=pages[1:], resolution=150
    )
    return path
