"""Chapter detection in plain text: headings become section boundaries; no headings, sections of sensible size.

Recognised headings (each a paragraph of its own, at most two short lines): ``CHAPTER I.``, ``Chapter 12``,
``PART TWO``, ``Book the First``-style number words, ``THE FIRST ACT``, ``PROLOGUE``/``EPILOGUE``/..., a roman
numeral alone on a line (``IV.``), a run of single letters (a dictionary's ``A``, ``B``, ``C``), and markdown ``#``
headings.
A short all-capitals or title-like line right after a heading is its subtitle. Runs of headings with (almost) no
text between them are a table of contents and are ignored; a heading with no text at all before the next one
(``PART ONE`` then ``CHAPTER I``) is joined to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_prep.document import Section

__all__ = ["FRONT_MATTER_MARKERS", "is_heading_line", "join_title", "paragraph_spans", "split_chapters"]

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last|final"
)
_NUMBER = rf"(?:[IVXLCDM]+|\d{{1,4}}|(?:the\s+)?(?:{_NUMBER_WORDS})(?:[\s-](?:{_NUMBER_WORDS}))*)"
_LABEL = r"(?:CHAPTER|BOOK|PART|VOLUME|ACT|SCENE|STAVE|CANTO|SECTION|LETTER|Chapter|Book|Part|Volume|Act|Scene|" \
         r"Stave|Canto|Section|Letter)"
_NUMBERED = re.compile(rf"^{_LABEL}\s+{_NUMBER}\b\s*[.:]?(?:\s*[-:—–.]?\s+\S.*)?$", re.I)
_NUMBERED_CASE = re.compile(rf"^{_LABEL}\b")  # the label itself must be capitalised as written
_ORDINAL_LABEL = re.compile(rf"^THE\s+(?:{_NUMBER_WORDS})\s+{_LABEL}\.?$", re.I)  # "THE FIRST ACT"
_SPECIAL = re.compile(
    r"^(?:PROLOGUE|EPILOGUE|PREFACE|INTRODUCTION|FOREWORD|AFTERWORD|CONCLUSION|INTERLUDE|"
    r"Prologue|Epilogue|Preface|Introduction|Foreword|Afterword|Conclusion|Interlude)[.:]?$"
)
_ROMAN_ALONE = re.compile(r"^[IVXLC]{1,7}\.?$")
_LETTER_ALONE = re.compile(r"^[A-Z]\.?$")
LETTER_RUN = 3  # single-letter headings count (a dictionary's A, B, C) when this many occur, not all roman
_MARKDOWN = re.compile(r"^#{1,6}[ \t]+\S")
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*(?:\n[^\n]*\S[^\n]*)*")
_LINE = re.compile(r"[^\n]*\S[^\n]*")

FRONT_MATTER_MARKERS = re.compile(
    r"\b(?:CONTENTS|Contents|Copyright|COPYRIGHT|All rights reserved|ALL RIGHTS RESERVED|Produced by|"
    r"Transcribed from|Transcriber|PRINTED BY|Printed by|ILLUSTRATIONS|List of Illustrations|Table of Contents|"
    r"E-text prepared by|Etext prepared by)\b"
)

TOC_RUN = 3  # this many headings in a row with almost no text between them are a table of contents
TINY = 40  # characters of text after a heading below which it counts as "almost none"
SECTION_TARGET = 20_000  # characters per section when a text has no headings
SINGLE_SECTION_MAX = 30_000
LINE_PARAGRAPH_CHARS = 150  # average line length above which a file without blank lines has a paragraph a line


def _line_per_paragraph(text: str, start: int, end: int, blocks: int) -> bool:
    """True for text with (almost) no blank lines whose long lines are paragraphs of their own."""
    lines = text.count("\n", start, end) + 1
    if lines < 3 or blocks > max(1, lines // 20):
        return False
    filled = sum(1 for _ in _LINE.finditer(text, start, end))
    return filled >= 2 and len(text[start:end].strip()) / filled > LINE_PARAGRAPH_CHARS


def paragraph_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of paragraphs in ``text[start:end]``, leading spaces excluded.

    Paragraphs are runs of non-blank lines; in a text without blank lines whose lines are long (one paragraph
    per line, as some files are written), each line is a paragraph.
    """
    end = len(text) if end is None else end
    spans = [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text, start, end)]
    if _line_per_paragraph(text, start, end, len(spans)):
        spans = [(m.start(), m.end()) for m in _LINE.finditer(text, start, end)]
    out = []
    for a, b in spans:
        while a < b and text[a] in " \t":
            a += 1
        out.append((a, b))
    return out


def _heading_kind(line: str) -> str:
    line = line.strip()
    if not line or len(line) > 80:
        return ""
    if _MARKDOWN.match(line):
        return "markdown"
    if _NUMBERED.match(line) and _NUMBERED_CASE.match(line):
        return line.split()[0].lower()
    if _SPECIAL.match(line):
        return "special"
    m = _ORDINAL_LABEL.match(line)
    if m and (line.isupper() or line.istitle()):
        return line.split()[-1].rstrip(".").lower()
    if _ROMAN_ALONE.match(line):
        return "roman"
    if _LETTER_ALONE.match(line):
        return "alpha"
    return ""


def is_heading_line(line: str) -> bool:
    """True for a line that reads as a chapter-level heading ("CHAPTER I.", "Part 2", "# Title", "IV.")."""
    return bool(_heading_kind(line))


def _is_subtitle(par: str) -> bool:
    if "\n" in par or len(par) > 70 or _heading_kind(par):
        return False
    letters = [c for c in par if c.isalpha()]
    if not letters:
        return False
    if all(c.isupper() for c in letters):
        return True
    words = par.split()
    return len(words) <= 8 and par[-1] not in ".,;!?\"'’”" and all(w[0].isupper() for w in words if len(w) > 3)


def join_title(lines: list[str]) -> str:
    """Heading lines as one title: 'CHAPTER I.' + 'HER BIRTHDAY' -> 'CHAPTER I. HER BIRTHDAY'."""
    out = ""
    for line in lines:
        line = re.sub(r"^#{1,6}[ \t]+", "", line.strip()).strip()
        line = re.sub(r"[ \t]+#+$", "", line)
        if not line:
            continue
        if out:
            out += " " if out[-1] in ".:;!?—-" else ". "
        out += line
    return out


@dataclass
class _Heading:
    kind: str
    start: int  # start of the heading paragraph
    end: int  # end of the heading (and its subtitle)
    lines: list[str]
    own_end: int = 0  # end of the heading paragraph itself


def _find_headings(text: str, pars: list[tuple[int, int]]) -> list[_Heading]:
    heads: list[_Heading] = []
    i = 0
    while i < len(pars):
        a, b = pars[i]
        lines = text[a:b].split("\n")
        kind = _heading_kind(lines[0]) if len(lines) <= 2 else ""
        if kind and len(lines) == 2 and not _is_subtitle(lines[1].strip()):
            kind = ""
        if kind:
            h = _Heading(kind, a, b, [ln.strip() for ln in lines], b)
            if len(lines) == 1 and i + 1 < len(pars) and kind != "markdown":
                na, nb = pars[i + 1]
                if _is_subtitle(text[na:nb].strip()) and text.count("\n", b, na) <= 4:
                    h.end = nb
                    h.lines.append(text[na:nb].strip())
                    i += 1
            heads.append(h)
        i += 1
    return _letter_headings(heads)


def _letter_headings(heads: list[_Heading]) -> list[_Heading]:
    """Single letters are a dictionary's sections when several occur and some are not roman numerals
    (then C, D, I, M are letters too); otherwise a lone non-roman letter is no heading."""
    singles = [h for h in heads if _LETTER_ALONE.match(h.lines[0])]
    if len(singles) >= LETTER_RUN and any(h.kind == "alpha" for h in singles):
        for h in singles:
            h.kind = "alpha"
            h.end, h.lines = h.own_end, h.lines[:1]  # the line after a letter is an entry, not a subtitle
        return heads
    return [h for h in heads if h.kind != "alpha"]


def _label(h: _Heading) -> str:
    return " ".join(h.lines[0].upper().replace(".", " ").replace(":", " ").split()[:2])


def _drop_contents(text: str, heads: list[_Heading]) -> list[_Heading]:
    def body_len(k: int) -> int:
        nxt = heads[k + 1].start if k + 1 < len(heads) else len(text)
        return len(text[heads[k].end:nxt].strip())

    tiny = [body_len(k) < TINY for k in range(len(heads))]
    keep = [True] * len(heads)
    k = 0
    while k < len(heads):
        if tiny[k]:
            j = k
            while j < len(heads) and tiny[j]:
                j += 1
            if j - k >= TOC_RUN:  # a contents list
                for m in range(k, j):
                    keep[m] = False
                # Its last entry may be followed by front matter: dropped when the same label comes again later.
                if j < len(heads) and _label(heads[j]) in {_label(h) for h in heads[j + 1:]}:
                    keep[j] = False
            k = j
        else:
            k += 1
    return [h for h, ok in zip(heads, keep, strict=True) if ok]


def _size_sections(text: str, start: int, end: int, source: str) -> list[Section]:
    if end - start <= SINGLE_SECTION_MAX:
        return [Section("", source, text[start:end])]
    out: list[Section] = []
    sec_start = start
    for _a, b in paragraph_spans(text, start, end):
        if b - sec_start >= SECTION_TARGET and end - b > SECTION_TARGET // 4:
            out.append(Section(f"Section {len(out) + 1}", source, text[sec_start:b]))
            sec_start = b
    out.append(Section(f"Section {len(out) + 1}" if out else "", source, text[sec_start:end]))
    return out


_BY_LINE = re.compile(r"^\s*(?:by|BY|By)(?:\s+\S.*)?$")


def _title_block(pre: str) -> bool:
    """Title and author lines (a title page): few short lines, none of them prose."""
    lines = [ln.strip() for ln in pre.strip().split("\n") if ln.strip()]
    if not lines or len(lines) > 12 or len(pre.strip()) > 600 or any(len(ln) > 80 for ln in lines):
        return False
    prose = sum(1 for ln in lines if len(ln.split()) > 10 or re.search(r"[a-z][.!?][\"”’]?\s+[A-Z]", ln))
    return prose == 0


def _preamble_matter(pre: str) -> str:
    """Front matter kind of the text before the first heading: '' when it reads like part of the book."""
    if FRONT_MATTER_MARKERS.search(pre):
        return "front matter"
    if _title_block(pre):
        return "titlepage"  # title and author lines: the spoken opening says them
    return ""


_IMPRINT = re.compile(
    r"\b(?:PRINTED|Printed|PUBLISHED|Published|PRESS|Press|Produced|Copyright|COPYRIGHT)\b|^\W*\d{4}\W*$")
PREAMBLE_BODY = 2000  # characters of text after the front matter that make a preamble part of the book
RUNNING_SHARE = 0.7  # ... when this share of them is running text (not lists of titles, names, imprints)


def _running_text(par: str) -> bool:
    """A paragraph of the book itself (prose, or verse of four lines or more), not a list of titles or names."""
    lines = [ln for ln in par.split("\n") if ln.strip()]
    punctuated = sum(1 for ln in lines if re.search(r"[,;:.!?]", ln))
    return (len(lines) >= 4 or len(par) > 200) and punctuated * 3 >= len(lines) * 2 and len(par) > 120


def _preamble_sections(text: str, start: int, end: int, source: str) -> list[Section]:
    """The text before the first heading: front matter, then (when a long text follows the last credit or
    contents line, e.g. a first poem without a heading) the beginning of the book."""
    pre = text[start:end]
    matter = _preamble_matter(pre)
    if matter != "front matter":
        return [Section("", source, pre, matter=matter)]
    pars = paragraph_spans(text, start, end)
    marked = [k for k, (a, b) in enumerate(pars) if FRONT_MATTER_MARKERS.search(text[a:b])]
    last = marked[-1] if marked else -1
    running = [_running_text(text[a:b]) for a, b in pars]
    sizes = [b - a for a, b in pars]
    body = next((k for k in range(last + 1, len(pars)) if running[k] and sum(
        n for n, r in zip(sizes[k:], running[k:], strict=True) if r) >= RUNNING_SHARE * sum(sizes[k:])), None)
    if body is None or end - pars[body][0] < PREAMBLE_BODY:
        return [Section("", source, pre, matter=matter)]
    while body - 1 > last and len(text[slice(*pars[body - 1])]) <= 60 and "\n" not in text[slice(*pars[body - 1])] \
            and not _IMPRINT.search(text[slice(*pars[body - 1])]):
        body -= 1  # the title of the first piece
    cut = pars[body][0]
    return [Section("", source, text[start:cut], matter=matter), Section("", source, text[cut:end])]


def _opening_title_block(text: str, pars: list[tuple[int, int]]) -> int:
    """End of a title block (title lines with a by-line) that opens a text without headings, else 0."""
    end = 0
    for k, (a, b) in enumerate(pars[:4]):
        lines = text[a:b].split("\n")
        if any(_BY_LINE.match(ln) for ln in lines):
            end = b
            if _title_block(text[pars[0][0]:end]) and k + 1 < len(pars):
                return end
            return 0
    return 0


def split_chapters(text: str, source: str, start: int = 0, end: int | None = None) -> list[Section]:
    """Sections of ``text[start:end]``; their texts are consecutive slices, so nothing is lost.

    Text before the first heading is a section without title; it is marked as front matter when it holds
    contents lists, copyright lines or credits.
    """
    end = len(text) if end is None else end
    pars = paragraph_spans(text, start, end)
    heads = _drop_contents(text, _find_headings(text, pars))
    heads, inner = _chapter_level(heads)
    if not heads:
        cut = _opening_title_block(text, pars)
        if cut:
            return [Section("", source, text[start:cut], matter="titlepage"), *_size_sections(text, cut, end, source)]
        return _size_sections(text, start, end, source)
    sections: list[Section] = []
    pre = text[start:heads[0].start]
    if pre.strip():
        sections += _preamble_sections(text, start, heads[0].start, source)
    pending: list[str] = []
    for k, h in enumerate(heads):
        nxt = heads[k + 1].start if k + 1 < len(heads) else end
        body = text[h.end:nxt]
        if not body.strip() and k + 1 < len(heads):
            pending += h.lines  # e.g. PART ONE directly followed by CHAPTER I
            continue
        inside = tuple((g.start - h.end, g.end - h.end) for g in inner if h.end <= g.start and g.end <= nxt)
        sections.append(Section(join_title(pending + h.lines), source, body, inside))
        pending = []
    if inner and sections and not sections[0].title:  # inner headings before the first chapter
        first = heads[0].start
        pre_inner = tuple((g.start - start, g.end - start) for g in inner if g.end <= first)
        sections[0].headings = pre_inner
    return sections


# Heading kinds that bound chapters, by the kind that is present: the first row whose key kind occurs twice wins.
_LEVELS = (
    ("chapter", {"chapter", "book", "part", "volume", "special", "markdown"}),
    ("stave", {"stave", "book", "part", "volume", "special"}),
    ("letter", {"letter", "book", "part", "volume", "special"}),
    ("canto", {"canto", "book", "part", "volume", "special"}),
    ("act", {"act", "book", "part", "volume", "special"}),
)


def _chapter_level(heads: list[_Heading]) -> tuple[list[_Heading], list[_Heading]]:
    """(chapter boundaries, headings inside chapters): e.g. ACT/SCENE/IV. under CHAPTER headings stay inside."""
    kinds = [h.kind for h in heads]
    for key, bounding in _LEVELS:
        if kinds.count(key) >= 2:
            return [h for h in heads if h.kind in bounding], [h for h in heads if h.kind not in bounding]
    return heads, []
