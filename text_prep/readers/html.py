"""Single-file HTML/XHTML manuscripts (Gutenberg HTML editions included)."""

from __future__ import annotations

import re
from pathlib import Path

from text_prep.document import Document
from text_prep.gutenberg import header_metadata, language_code
from text_prep.readers.files import decode_text
from text_prep.readers.markup import Block, extract_blocks, localname, notes_by_id, parse_markup
from text_prep.readers.sections import resolve_notes, sections_from_blocks
from text_prep.readers.txt import guess_author, title_from_path
from text_prep.types import PrepareOptions

__all__ = ["GUTENBERG_END", "GUTENBERG_START", "read_html", "strip_gutenberg_blocks"]

GUTENBERG_START = _START = re.compile(r"\*{3}\s*START OF\s+(?:THE\s+|THIS\s+)?PROJECT GUTENBERG[^*\n]*(?:\*{3})?", re.I)
GUTENBERG_END = _END = re.compile(
    r"\*{3}\s*END OF\s+(?:THE\s+|THIS\s+)?PROJECT GUTENBERG|End of (?:the )?Project Gutenberg", re.I)


_PG_TITLE = re.compile(r"^The Project Gutenberg e-?Book,? (?:of )?(.+?)(?:, by (.+))?$", re.I)


def strip_gutenberg_blocks(blocks: list[Block]) -> tuple[list[Block], dict[str, str]]:
    """Blocks between the Gutenberg START and END markers, and the header's metadata (empty without markers)."""
    meta: dict[str, str] = {}
    for i, b in enumerate(blocks):
        m = _START.search(b.text)
        if m:
            meta = header_metadata("\n".join(x.text for x in blocks[:i]) + "\n" + b.text[:m.start()])
            rest = b.text[m.end():].strip()
            blocks = ([Block(rest, b.level)] if rest else []) + blocks[i + 1:]
            break
    for i, b in enumerate(blocks):
        m = _END.search(b.text)
        if m:
            head = b.text[:m.start()].strip()
            blocks = blocks[:i] + ([Block(head, b.level)] if head else [])
            break
    return blocks, meta


def _head_info(root) -> tuple[str, str, str]:
    title = author = lang = ""
    for el in root.iter():
        name = localname(el)
        if name == "html":
            lang = el.get("lang") or el.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
        elif name == "title" and not title:
            title = " ".join("".join(el.itertext()).split())
        elif name == "meta" and (el.get("name") or "").lower() in ("author", "dc.creator") and not author:
            author = (el.get("content") or "").strip()
        elif name == "body":
            break
    return title, author, lang


def read_html(path: Path, data: bytes, options: PrepareOptions | None = None) -> Document:
    text = decode_text(data, str(path), sniff_declared=True)
    root = parse_markup(text, prefer_xml=path.suffix.lower() == ".xhtml")
    extracted = extract_blocks(root, options)
    blocks, meta = strip_gutenberg_blocks(extracted.blocks)
    title, author, lang = _head_info(root)
    m = _PG_TITLE.match(title)
    if m:  # "The Project Gutenberg eBook of Moby Dick, by Herman Melville"
        title, author = m.group(1).strip(), author or (m.group(2) or "").strip()
    sections = sections_from_blocks(blocks, path.name)
    notes = dict(extracted.notes)
    wanted = {href.rsplit("#", 1)[-1] for sec in sections for _label, href in sec.notes} - set(notes)
    if wanted:  # Gutenberg's older notes: a paragraph that opens with <a name="footnote1">
        notes.update(notes_by_id(root, wanted))
    resolve_notes(sections, {k: v for k, v in notes.items() if v}, lambda _sec, href: href.rsplit("#", 1)[-1])
    author = meta.get("author") or author or guess_author("\n".join(b.text for b in blocks[:40]))
    return Document(meta.get("title") or title or title_from_path(path), author,
                    meta.get("language") or language_code(lang), sections, skipped=list(extracted.skipped))
