"""File names from book and chapter metadata, and the check that an output path stays in its folder.

A title is text from the manuscript, so it may be anything: ``..``, ``../x``, ``/etc/passwd``, ``.hidden``,
empty, a thousand characters, NUL or other control characters. ``safe_name`` turns it into one safe basename:
no separator, never ``.`` or ``..``, never hidden (no leading dot), no control character, not empty, at most
``limit`` characters (and far under the 255 bytes a file system allows, even in UTF-8), letters of every
script kept. ``inside`` is the second line of defence: it refuses any path that would resolve outside its folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from pipeline.errors import StoreError

__all__ = ["book_file_name", "chapter_file_name", "inside", "safe_name"]

# Characters that are separators or special on some file system we may be copied to (Windows, macOS, FAT).
_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]+')
_SPACES = re.compile(r"\s+")
_MAX_BYTES = 200   # in UTF-8, leaving room for a numeric prefix, a suffix and the atomic writer's temp name


def safe_name(text: str, limit: int = 60, fallback: str = "untitled") -> str:
    """``text`` as a safe file name stem (no suffix): see the module docstring."""
    s = unicodedata.normalize("NFC", str(text))
    s = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in s)
    s = _UNSAFE.sub(" ", s)
    s = _SPACES.sub(" ", s).strip()
    # no leading dot (hidden, '.', '..') or dash (read as an option), no trailing dot or space (Windows)
    s = _truncate(s, limit).lstrip(" .-").rstrip(" .")
    return s or fallback


def _truncate(s: str, limit: int) -> str:
    s = s[:max(1, limit)]
    while len(s.encode("utf-8")) > _MAX_BYTES:
        s = s[:-1]
    return s


def chapter_file_name(index: int, title: str, fmt: str) -> str:
    """``NN Title.fmt`` for chapter ``index`` (0-based)."""
    return f"{index + 1:02d} {safe_name(title)}.{safe_name(fmt, 8, 'audio')}"


def book_file_name(title: str, suffix: str = ".m4b") -> str:
    """The book's file name from its title."""
    return f"{safe_name(title, 80, 'audiobook')}{suffix}"


def inside(folder: Path, name: str | Path) -> Path:
    """``folder / name``, refused unless it resolves to a path strictly inside ``folder``."""
    folder = Path(folder)
    path = folder / name
    base = folder.resolve()
    target = path.resolve()
    if target == base or base not in target.parents:
        raise StoreError(f"refusing to write {str(name)!r}: it would land outside {folder}")
    return path
