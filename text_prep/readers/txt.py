"""Plain-text manuscripts: decode, strip the Gutenberg boilerplate, find chapters."""

from __future__ import annotations

import re
from pathlib import Path

from text_prep.chapters import is_heading_line, split_chapters
from text_prep.document import Document
from text_prep.errors import InputFileError
from text_prep.gutenberg import body_bounds, header_metadata
from text_prep.notes import plain_text_notes
from text_prep.readers.files import decode_text
from text_prep.types import PrepareOptions

__all__ = ["guess_author", "read_txt", "title_from_path"]

_BY_LINE = re.compile(r"^[ \t]*(?:by|BY|By)[ \t]+([^\n]{3,80})$", re.M)


def title_from_path(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().title() or path.name


def guess_author(text: str) -> str:
    """'By Jane Doe' near the top of a text, in its written capitalisation (all capitals become title case)."""
    m = _BY_LINE.search(text[:3000])
    if not m:
        return ""
    name = m.group(1).strip().rstrip(".,")
    return name.title() if name.isupper() else name


def _guess_title(text: str) -> str:
    for line in text[:2000].split("\n"):
        line = line.strip()
        if line:
            if len(line) <= 60 and line[-1] not in ".,;:!?" and not is_heading_line(line):
                return line.title() if line.isupper() else line
            return ""
    return ""


def read_txt(path: Path, data: bytes, options: PrepareOptions | None = None) -> Document:
    text = decode_text(data, str(path))
    if not text.strip():
        raise InputFileError(f"no text in file (only whitespace): {str(path)!r}")
    start, end, found = body_bounds(text)
    meta = header_metadata(text[:start]) if found else {}
    sections = split_chapters(text, path.name, start, end)
    for sec in sections:
        sec.wrapped = True  # line ends inside a paragraph are wrapping, except in verse (see layout)
    body = text[start:end]
    title = meta.get("title") or (_guess_title(body) if not found else "") or title_from_path(path)
    author = meta.get("author") or guess_author(body)
    doc = Document(title, author, meta.get("language", ""), sections)
    plain_text_notes(doc)
    return doc
