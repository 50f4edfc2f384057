"""Readers: one per manuscript format, each returning a ``Document`` (metadata and sections in reading order).

``read_document(path)`` checks the path, picks the reader by extension and raises ``InputFileError`` /
``BookFormatError`` with one-line messages for anything it cannot serve.
"""

from __future__ import annotations

from pathlib import Path

from text_prep.backmatter import end_of_text
from text_prep.document import Document
from text_prep.errors import InputFileError
from text_prep.readers.epub import read_epub
from text_prep.readers.files import check_path, looks_binary, read_bytes
from text_prep.readers.html import read_html
from text_prep.readers.markdown import read_markdown
from text_prep.readers.txt import read_txt
from text_prep.types import PrepareOptions

__all__ = ["EXTENSIONS", "read_document"]

EXTENSIONS = {
    ".txt": read_txt,
    ".text": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
    ".xhtml": read_html,
    ".epub": read_epub,
}


def read_document(path: str | Path, options: PrepareOptions | None = None) -> Document:
    """The document at ``path``, read by its extension's reader; ``options`` steer tables, plays and notes."""
    p = check_path(path)
    reader = EXTENSIONS.get(p.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(EXTENSIONS))
        raise InputFileError(f"unknown manuscript extension {p.suffix or '(none)'!r} of {str(path)!r} "
                             f"(known: {known})")
    options = options or PrepareOptions()
    if reader is read_epub:
        doc = read_epub(p, None, options)
    else:
        data = read_bytes(p)
        if looks_binary(data):
            raise InputFileError(f"binary file, not text: {str(path)!r}")
        doc = reader(p, data, options)
    if not options.include_front_matter:
        end_of_text(doc)
    return doc
