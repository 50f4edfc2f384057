"""The end of the text: what follows "THE END" (or "FINIS"), and publishers' advertisements, is not the book.

The last end marker (a paragraph that is only ``THE END``, ``The End.``, ``FINIS``...) in the last part of the
book ends the text: it is spoken, and the rest of its section and every later section are left out. Without a
marker, a catalogue or advertisement header near the end (``ADVERTISEMENTS``, ``Books by the same author``,
``Selections from ... Books``, ``Catalogue``) starts the left-out part. What is left out is listed in
``Document.skipped`` with its size in words.
"""

from __future__ import annotations

import re

from text_prep.chapters import paragraph_spans
from text_prep.document import Document, Section

__all__ = ["END_MARKER", "ADS_HEADER", "end_of_text"]

# "THE END", "The End.", "FINIS", "Finis": capitals as a printer sets them, no quotes or question (not dialogue)
END_MARKER = re.compile(r"^[^\w\"“”‘’'?!]*(?:THE\s+END|The\s+End|FINIS|Finis|FIN|Fin|END)[^\w\"“”‘’'?!]*$")
ADS_HEADER = re.compile(
    r"^\W*(?:advertisements?|advertisement section|catalogue|catalog|publishers?['’]?s? (?:announcements?|catalogue)|"
    r"(?:other |new |popular |standard )?books (?:by|for|from|of|published)\b.{0,60}|"
    r"(?:also |other works )by (?:the same author|this author)|by the same author|works by the same author|"
    r"selections from .{0,60}books.{0,30}|list of (?:new )?(?:books|publications)|"
    r"(?:new|recent|standard) (?:fiction|publications))\W*$",
    re.I,
)
TAIL_SHARE = 0.3  # an end marker counts only in the last 30% of the book's text
REST_SHARE = 0.25  # ... and when what follows it is at most a quarter of the book
ADS_SHARE = 0.15  # an advertisement header only in the last 15%


def _words(text: str) -> int:
    return len(text.split())


def _find(body: list[Section], total: int, rx: re.Pattern, share: float, last: bool) -> tuple[int, int, int] | None:
    """(section index, cut offset, paragraph start) of the last (or first) matching paragraph in the tail."""
    found = None
    seen = 0
    for k, sec in enumerate(body):
        if seen + len(sec.text) >= total * (1 - share):
            for a, b in paragraph_spans(sec.text):
                if seen + a < total * (1 - share) or b - a > 120:
                    continue
                if rx.match(sec.text[a:b]):
                    found = (k, b, a)
                    if not last:
                        return found
        seen += len(sec.text)
    return found


def end_of_text(doc: Document) -> None:
    """Cut ``doc``'s body at the end of the text (in place); what is cut goes to ``doc.skipped``."""
    body = [s for s in doc.sections if not s.matter]
    total = sum(len(s.text) for s in body)
    if not body or total == 0:
        return
    for sec in body:
        if sec.title and ADS_HEADER.match(sec.title) and sec is not body[0]:
            sec.matter = "ads"
    body = [s for s in body if not s.matter]
    hit = _find(body, total, END_MARKER, TAIL_SHARE, last=True)
    keep_marker = True
    if hit is None:
        hit = _find(body, total, ADS_HEADER, ADS_SHARE, last=False)
        keep_marker = False
    if hit is None:
        return
    k, end, start = hit
    sec = body[k]
    rest_chars = len(sec.text) - end + sum(len(s.text) for s in body[k + 1:])
    if keep_marker and rest_chars > REST_SHARE * total:
        return
    cut = end if keep_marker else start
    rest = sec.text[cut:]
    if not keep_marker and not sec.text[:cut].strip():
        sec.matter = "ads"
    elif rest.strip():
        doc.skipped.append(f"{sec.title or sec.source}: after {'the end' if keep_marker else 'the text'} "
                           f"({_words(rest)} words)")
        sec.text = sec.text[:cut]
        sec.headings = tuple((a, b) for a, b in sec.headings if b <= cut)
    for later in body[k + 1:]:
        later.matter = "back matter"
