"""What every reader returns: a book's metadata and its sections in reading order, before chunking.

A ``Section`` is a chapter candidate: its title, where it came from, its body text (paragraphs separated by
blank lines; the heading that gave the title is not part of it), the spans of headings inside the body, and
``matter``: empty for the body of the book, else the kind of front/back matter (skipped by default);
``wrapped``: lines inside a paragraph are hard-wrapped prose (plain text), not meaningful line breaks (markup
``<br/>``: verse); ``notes``: the footnotes/endnotes the section cites, as (label, text), in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from text_prep.types import Cover

__all__ = ["MATTER_WORDS", "Document", "Section", "matter_kind"]


@dataclass
class Section:
    title: str
    source: str
    text: str
    headings: tuple[tuple[int, int], ...] = ()
    matter: str = ""
    wrapped: bool = False
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Document:
    title: str
    author: str
    language: str
    sections: list[Section]
    cover: Cover | None = None
    skipped: list[str] = field(default_factory=list)


# Names of front/back matter (EPUB epub:type values, guide types, file stems and titles), mapped to one kind.
MATTER_WORDS = {
    "imprint": "imprint",
    "colophon": "colophon",
    "copyright": "copyright",
    "copyright-page": "copyright",
    "copyrightpage": "copyright",
    "uncopyright": "copyright",
    "licence": "copyright",
    "license": "copyright",
    "titlepage": "titlepage",
    "title-page": "titlepage",
    "title page": "titlepage",
    "halftitlepage": "titlepage",
    "halftitle": "titlepage",
    "half-title": "titlepage",
    "half title": "titlepage",
    "cover": "cover",
    "toc": "toc",
    "contents": "toc",
    "table of contents": "toc",
    "landmarks": "toc",
    "loi": "toc",
    "lot": "toc",
    "list of illustrations": "toc",
    "index": "index",
    "footnotes": "notes",
    "endnotes": "notes",
    "rearnotes": "notes",
    "seriespage": "ads",
    "ads": "ads",
}

_WORD_SPLIT = re.compile(r"[\s_]+")


def matter_kind(*names: str) -> str:
    """The front/back matter kind named by any of ``names`` (a title, a file stem, epub:type tokens), or ''."""
    for name in names:
        if not name:
            continue
        key = name.strip().strip(":.").lower()
        key = re.sub(r"\.x?html?$", "", key.rsplit("/", 1)[-1])
        if key in MATTER_WORDS:
            return MATTER_WORDS[key]
        key = _WORD_SPLIT.sub(" ", key)
        if key in MATTER_WORDS:
            return MATTER_WORDS[key]
    return ""
