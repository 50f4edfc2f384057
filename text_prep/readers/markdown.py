"""Markdown manuscripts (markdown-it-py): headings split chapters; display text is the rendered plain text.

Footnotes (``text[^1]`` and ``[^1]: note``) follow the notes policy; ``<break time="2s"/>`` is a pause mark and
a thematic break (``***``, ``---``) a scene break.
"""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it import MarkdownIt

from text_prep.document import Document
from text_prep.errors import InputFileError
from text_prep.readers.files import decode_text
from text_prep.readers.markup import Block
from text_prep.readers.sections import resolve_notes, sections_from_blocks
from text_prep.readers.txt import guess_author, title_from_path
from text_prep.types import PrepareOptions

__all__ = ["read_markdown"]

_FRONT = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*\n", re.S)
_BREAK = re.compile(r"<break\s+time\s*=\s*[\"']\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*[\"']\s*/?>", re.I)
# Footnotes (the common markdown extension): "[^1]: text" (continued by indented lines) and "[^1]" in the text.
_FOOTNOTE_DEF = re.compile(r"^\[\^([^\]\s]+)\]:[ \t]*(.*(?:\n(?:[ ]{4}|\t).*)*)\n?", re.M)
_FOOTNOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
_FIELD = re.compile(r"^(title|author|lang|language)[ \t]*:[ \t]*(.+)$", re.M | re.I)


def _inline_text(token) -> str:
    out = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "html_inline"):
            if child.type == "html_inline":
                m = _BREAK.fullmatch(child.content.strip())
                out.append(f"[pause {m.group(1)}{m.group(2).lower()}]" if m else "")
            else:
                out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


def _blocks(text: str) -> list[Block]:
    md = MarkdownIt("commonmark")
    blocks: list[Block] = []
    level = 0
    for tok in md.parse(text):
        if tok.type == "heading_open":
            level = int(tok.tag[1])
        elif tok.type == "heading_close":
            level = 0
        elif tok.type == "inline":
            content = "\n".join(" ".join(line.split()) for line in _inline_text(tok).split("\n"))
            content = "\n".join(line for line in content.split("\n") if line)
            if content:
                blocks.append(Block(content, level))
        elif tok.type in ("fence", "code_block") and tok.content.strip():
            blocks.append(Block(tok.content.strip("\n"), 0))
        elif tok.type == "hr":
            blocks.append(Block("* * *", 0))  # a thematic break is a scene break
        elif tok.type == "html_block":
            blocks += [Block(f"[pause {m.group(1)}{m.group(2).lower()}]", 0) for m in _BREAK.finditer(tok.content)]
    return blocks


def read_markdown(path: Path, data: bytes, options: PrepareOptions | None = None) -> Document:
    text = decode_text(data, str(path))
    if not text.strip():
        raise InputFileError(f"no text in file (only whitespace): {str(path)!r}")
    meta: dict[str, str] = {}
    m = _FRONT.match(text)
    if m:
        meta = {k.lower(): v.strip().strip("\"'") for k, v in _FIELD.findall(m.group(1))}
        text = text[m.end():]
    notes: dict[str, str] = {}
    if "[^" in text:
        text = _FOOTNOTE_DEF.sub(lambda m: notes.setdefault(m.group(1), " ".join(m.group(2).split())) and "", text)
    blocks = _blocks(text)
    if notes:
        for b in blocks:  # "text[^1]": the reference leaves the text and is kept on its block
            b.refs = [(label, label) for label in _FOOTNOTE_REF.findall(b.text)]
            b.text = _FOOTNOTE_REF.sub("", b.text)
    sections = sections_from_blocks(blocks, path.name)
    resolve_notes(sections, notes, lambda _sec, href: href)
    for sec in sections:
        sec.wrapped = True  # soft line breaks: wrapping, except in verse (see layout)
    title = meta.get("title") or ""
    if not title:
        firsts = [b for b in blocks[:3] if b.level == 1]
        if len([b for b in blocks if b.level == 1]) == 1 and firsts:
            title = firsts[0].text.replace("\n", " ")
    author = meta.get("author") or guess_author("\n".join(b.text for b in blocks[:20]))
    return Document(title or title_from_path(path), author, meta.get("language") or meta.get("lang") or "", sections)
