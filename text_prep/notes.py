"""One policy for footnotes and endnotes in every format: never read inline where they are cited.

Readers leave notes out of the running text and hand each section the notes it cites (``Section.notes``, in
order); in plain text, ``[Footnote 1: ...]`` paragraphs stay in the text but are silent (see ``layout``) and a
trailing ``FOOTNOTES:`` block is cut off. ``NotesPolicy.SKIP`` (the default) lists them in ``Book.skipped``;
``NotesPolicy.CHAPTER_END`` reads them after the chapter's text under a "Notes" heading, each introduced by its
label ("Note 3. ...").
"""

from __future__ import annotations

import re

from text_prep.chapters import paragraph_spans
from text_prep.document import Document, Section
from text_prep.types import NotesPolicy

__all__ = ["NOTES_HEADING", "apply_notes", "plain_text_notes"]

NOTES_HEADING = "Notes"


def _append(sec: Section) -> None:
    text = sec.text.rstrip()
    start = len(text) + 2 if text else 0
    head = (start, start + len(NOTES_HEADING))
    parts = [NOTES_HEADING]
    for label, note in sec.notes:
        paragraphs = [p.strip() for p in note.split("\n\n") if p.strip()]
        if not paragraphs:
            continue
        intro = f"Note {label}." if label else "Note."
        parts.append(f"{intro} {paragraphs[0]}")
        parts += paragraphs[1:]
    sec.text = (text + "\n\n" if text else "") + "\n\n".join(parts)
    sec.headings = sec.headings + (head,)


def apply_notes(sections: list[Section], policy: NotesPolicy) -> list[str]:
    """Apply ``policy`` to the sections' notes in place; the entries for ``Book.skipped``."""
    skipped: list[str] = []
    for sec in sections:
        if not sec.notes:
            continue
        if policy == NotesPolicy.CHAPTER_END:
            _append(sec)
        else:
            n = len(sec.notes)
            skipped.append(f"{sec.title or sec.source}: {n} note{'s' if n != 1 else ''} (notes)")
    return skipped


_INLINE_NOTE = re.compile(r"^\s*\[\s*Foot-?note\s*(\w{0,4})\s*:\s*(.*?)\]\s*$", re.S | re.I)
_NOTES_HEADER = re.compile(r"^\s*(?:FOOTNOTES|ENDNOTES|NOTES|Footnotes|Endnotes|Notes)\s*[.:]?\s*$")
_NOTE_ITEM = re.compile(r"^\s*(?:[\[{](\w{1,4})[\]}]|(\d{1,4})\.|\((\w{1,4})\))\s+(.+)$", re.S)
_MARK = re.compile(r"[\[{](\w{1,4})[\]}]")
NOTES_SHARE = 0.4  # a notes block only in the last 40% of the book


def _one_line(text: str) -> str:
    return "\n\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip())


def plain_text_notes(doc: Document) -> None:
    """Plain-text notes: ``[Footnote 1: ...]`` paragraphs become their section's notes; a ``FOOTNOTES:`` block
    near the end is cut from the text (listed in ``doc.skipped``) and its ``[1] ...`` (or ``{1} ...``) items
    become the notes of the sections that cite ``[1]`` (``{1}``)."""
    body = [s for s in doc.sections if not s.matter]
    for sec in body:
        if "ootnote" not in sec.text:
            continue
        for a, b in paragraph_spans(sec.text):
            m = _INLINE_NOTE.match(sec.text[a:b])
            if m:
                sec.notes.append((m.group(1), _one_line(m.group(2))))
    total = sum(len(s.text) for s in body)
    seen = 0
    for sec in body:
        for a, b in paragraph_spans(sec.text):
            if seen + a < total * (1 - NOTES_SHARE) or b - a > 20 or not _NOTES_HEADER.match(sec.text[a:b]):
                continue
            items: dict[str, str] = {}
            for ia, ib in paragraph_spans(sec.text, b):
                m = _NOTE_ITEM.match(sec.text[ia:ib])
                if m:
                    items[m.group(1) or m.group(2) or m.group(3)] = _one_line(m.group(4))
            if not items:
                continue
            header = sec.text[a:b].strip()
            sec.text = sec.text[:a]
            sec.headings = tuple((x, y) for x, y in sec.headings if y <= a)
            doc.skipped.append(f"{sec.title or sec.source}: {header} ({len(items)} notes)")
            for other in body:
                cited = [m.group(1) for m in _MARK.finditer(other.text) if m.group(1) in items]
                other.notes += [(label, items[label]) for label in dict.fromkeys(cited)]
            return
        seen += len(sec.text)
