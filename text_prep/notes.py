"""One policy for footnotes and endnotes in every format: never read inline where they are cited.

Readers leave notes out of the running text and hand each section the notes it cites (``Section.notes``, in
order). ``NotesPolicy.SKIP`` (the default) lists them in ``Book.skipped``; ``NotesPolicy.CHAPTER_END`` reads
them after the chapter's text under a "Notes" heading, each introduced by its label ("Note 3. ...").
"""

from __future__ import annotations

from text_prep.document import Section
from text_prep.types import NotesPolicy

__all__ = ["NOTES_HEADING", "apply_notes"]

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
