"""Blocks (paragraphs and leveled headings) become sections: the chapter level is the highest heading level that
occurs at least twice (or a deeper one that occurs three times as often: parts above chapters); deeper headings
stay inside chapters; a shallower one that occurs once before the first chapter is the book's title (front
matter); others start sections, joined to the next chapter's title when nothing follows them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from text_prep.chapters import FRONT_MATTER_MARKERS, join_title, split_chapters
from text_prep.document import Section, matter_kind
from text_prep.readers.markup import Block

__all__ = ["blocks_text", "resolve_notes", "sections_from_blocks"]


def blocks_text(blocks: list[Block]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Blocks joined by blank lines, and the spans of the heading blocks in that text."""
    parts, heads, pos = [], [], 0
    for b in blocks:
        if parts:
            pos += 2
        if b.level:
            heads.append((pos, pos + len(b.text)))
        parts.append(b.text)
        pos += len(b.text)
    return "\n\n".join(parts), tuple(heads)


def _refs(blocks: list[Block]) -> list[tuple[str, str]]:
    return [r for b in blocks for r in b.refs]


def _section(title: str, source: str, blocks: list[Block], matter: str = "") -> Section:
    text, heads = blocks_text(blocks)
    return Section(title, source, text, heads, matter or matter_kind(title), notes=_refs(blocks))


def resolve_notes(sections: list[Section], notes: dict[str, str], key: Callable[[Section, str], str]) -> None:
    """Replace each section's (label, href) references by (label, note text); unknown targets are dropped."""
    for sec in sections:
        out, seen = [], set()
        for label, href in sec.notes:
            k = key(sec, href)
            if k in notes and k not in seen:
                seen.add(k)
                out.append((label, notes[k]))
        sec.notes = out


def _assign_refs(text: str, blocks: list[Block], sections: list[Section]) -> None:
    """References of blocks given to the sections (consecutive slices of ``text``) that hold them."""
    if not any(b.refs for b in blocks):
        return
    starts, pos = [], 0
    for sec in sections:
        at = text.find(sec.text, pos) if sec.text else pos
        starts.append(max(at, 0))
        pos = max(at, pos)
    offset = 0
    for b in blocks:
        if b.refs:
            k = max(i for i, st in enumerate([0] + starts[1:]) if st <= offset)
            sections[k].notes += b.refs
        offset += len(b.text) + 2


def sections_from_blocks(blocks: list[Block], source: str) -> list[Section]:
    levels = Counter(b.level for b in blocks if b.level)
    repeated = [lv for lv, n in levels.items() if n >= 2]
    if not repeated:
        # No repeated heading level: look for plain-text headings ("CHAPTER I.") in the paragraphs.
        text, heads = blocks_text(blocks)
        found = split_chapters(text, source)
        if len(found) == 1 and not found[0].title:
            found[0].headings = heads
        _assign_refs(text, blocks, found)
        return found
    chapter = min(repeated)
    for deeper in sorted(lv for lv in repeated if lv > chapter):
        if levels[deeper] >= 3 * levels[chapter]:  # parts above chapters: chapters are the unit
            chapter = deeper
            break
    sections: list[Section] = []
    pre: list[Block] = []
    current: tuple[list[str], list[Block]] | None = None  # (title lines, body blocks)
    pending: list[str] = []
    for b in blocks:
        if b.level and b.level <= chapter:
            if current is not None and not current[1]:
                pending += current[0]
                current = None
            if current is not None:
                sections.append(_section(join_title(current[0]), source, current[1]))
            if b.level < chapter and current is None and not sections and levels[b.level] == 1:
                pre.append(b)  # the book's title before the first chapter
                continue
            current = (pending + b.text.split("\n"), [])
            pending = []
        elif current is None:
            pre.append(b)
        else:
            current[1].append(b)
    if current is not None:
        sections.append(_section(join_title(current[0]), source, current[1]))
    if pre:
        text, heads = blocks_text(pre)
        matter = "front matter" if FRONT_MATTER_MARKERS.search(text) else ""
        if all(b.level for b in pre):
            matter = "titlepage"  # only the book's title: the spoken opening says it
        sections.insert(0, Section("", source, text, heads, matter, notes=_refs(pre)))
    return sections
