"""HTML/XHTML parsing without entity expansion, and the walk that turns a tree into text blocks.

Parsing never loads DTDs, never resolves entities declared in a document and never touches the network:
a DOCTYPE's internal subset is removed before parsing, named HTML entities are replaced by their characters
(undefined ones, and character references to no valid character, are dropped: never spoken), and lxml runs
with ``resolve_entities=False, no_network=True, huge_tree=False``.

The walk reads a body the way a narrator does: footnotes and endnotes (epub:type footnote/endnote, Gutenberg
``div.footnote``) are collected in ``Blocks.notes``, not read inline, and the references to them
(``noteref``, ``a.fnanchor``) are kept on their blocks; a table is skipped (noted in ``Blocks.skipped``) or read
row by row; a play's table of lines (Standard Ebooks ``z3998:persona`` cells) becomes one paragraph per
speech with the speaker attached ("Bernardo: Who's there?") or dropped; a stage direction is a paragraph of its
own or skipped; a dictionary's term (``dt``) joins its definition; ``<hr/>`` is a scene break (``* * *``)
and ``<break time="2s"/>`` a pause mark (``[pause 2s]``).
"""

from __future__ import annotations

import html
import html.entities
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

from text_prep.headings import title_case
from text_prep.tables import read_rows, row_speech
from text_prep.types import DirectionsPolicy, PrepareOptions, SpeakersPolicy

__all__ = ["Block", "Blocks", "extract_blocks", "notes_by_id", "parse_markup", "tokens"]

_DOCTYPE = re.compile(r"<!DOCTYPE(?:[^\[>]*\[[\s\S]*?\])?[^>]*>", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_CHAR_REF = re.compile(r"&#([0-9A-Za-z]{1,12});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_WS = re.compile(r"\s+")
_BREAK_TAG = re.compile(r"<break\s+time\s*=\s*[\"']\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*[\"']\s*/?>(?:\s*</break>)?", re.I)

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                              remove_comments=True, remove_pis=True)
_HTML_PARSER = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def _entity(m: re.Match) -> str:
    """A named entity's characters (HTML5 names); an undefined one (``&lol9;``, declared in a DOCTYPE we drop)
    is dropped, so it is never spoken nor refused by the XML parser."""
    name = m.group(1)
    if name in _XML_ENTITIES:
        return m.group(0)
    return html.escape(html.entities.html5.get(name + ";", ""))   # &LT; must not become markup


def _char_ref(m: re.Match) -> str:
    """A numeric character reference kept when it names a character XML allows; dropped otherwise."""
    digits = m.group(1)
    try:
        cp = int(digits[1:], 16) if digits[:1] in "xX" else int(digits)
    except ValueError:
        return ""
    ok = cp in (0x9, 0xA, 0xD) or 0x20 <= cp <= 0xD7FF or 0xE000 <= cp <= 0xFFFD or 0x10000 <= cp <= 0x10FFFF
    return m.group(0) if ok else ""


def parse_markup(text: str, prefer_xml: bool):
    """Root element of an (X)HTML document given as text; XML first for XHTML, lenient HTML otherwise."""
    text = _XML_DECL.sub("", text, count=1)
    text = _DOCTYPE.sub("", text, count=1)
    text = _NAMED_ENTITY.sub(_entity, text)
    if "&#" in text:
        text = _CHAR_REF.sub(_char_ref, text)
    if "<break" in text or "<BREAK" in text:
        text = _BREAK_TAG.sub(lambda m: f"<p>[pause {m.group(1)}{m.group(2).lower()}]</p>", text)
    if prefer_xml:
        try:
            return etree.fromstring(text.encode("utf-8"), _XML_PARSER)
        except etree.XMLSyntaxError:
            pass
    return lxml_html.document_fromstring(text, parser=_HTML_PARSER)


BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li blockquote pre td th dt dd figcaption caption section article header footer "
    "aside table tr ul ol dl hr body main figure address center hgroup tbody thead tfoot".split()
)
HEADING_TAGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
SKIP_TAGS = frozenset("script style head title template noscript svg math object iframe nav audio video".split())
_SKIP_TYPES = {"pagebreak", "doc-pagebreak"}
_REF_TYPES = {"noteref", "doc-noteref"}
NOTE_TYPES = {"footnote", "endnote", "rearnote", "doc-footnote", "doc-endnote", "note"}
_NOTE_CLASSES = {"footnote", "fndef"}
_DIRECTION_CLASSES = {"stage", "stagedir", "stage-direction", "direction", "stage_direction"}


def localname(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def tokens(el, attr: str) -> set[str]:
    """Whitespace-separated values of an attribute given by local name (e.g. 'type' finds epub:type)."""
    out: set[str] = set()
    for k, v in el.attrib.items():
        k = k.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()
        if k == attr:
            out.update(t.rsplit(":", 1)[-1].lower() for t in v.split())
    return out


def _skipped(el) -> bool:
    name = localname(el)
    if name in SKIP_TAGS or not name:
        return True
    if (tokens(el, "type") | tokens(el, "role")) & _SKIP_TYPES:
        return True
    classes = (el.get("class") or "").split()
    if "pagenum" in classes or "pg-boilerplate" in classes or el.get("hidden") is not None:
        return True
    return el.get("id") in ("pg-header", "pg-footer")  # Project Gutenberg's header and licence sections


@dataclass
class Block:
    """A paragraph (level 0) or a heading (level 1-6) of plain text; lines of verse are kept with ``\\n``.

    ``refs``: (label, href) of the notes the block cites.
    """

    text: str
    level: int = 0
    refs: list[tuple[str, str]] = field(default_factory=list)
    direction: bool = False  # a stage direction


@dataclass
class Blocks:
    blocks: list[Block] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)  # element id -> index of the next block
    notes: dict[str, str] = field(default_factory=dict)  # element id of a footnote/endnote -> its text
    skipped: list[str] = field(default_factory=list)  # what was left out, e.g. "table (8 rows)"


def _classes(el) -> set[str]:
    return set((el.get("class") or "").lower().split())


_LINE_CLASS = re.compile(r"^(?:line|l|vl|verse-line|verseline|i\d{1,2}|indent\d{0,2})$")


def _verse_line(el) -> bool:
    """A line of verse written as its own block (``<div class="line">``, Gutenberg ``<p class="i2">``)."""
    return localname(el) in ("div", "p", "span") and any(_LINE_CLASS.match(c) for c in _classes(el))


def _is_note(el) -> bool:
    if localname(el) in ("a", "span", "sup"):
        return False
    return bool((tokens(el, "type") | tokens(el, "role")) & NOTE_TYPES) or bool(_classes(el) & _NOTE_CLASSES)


_REF_CLASSES = {"fnanchor", "noteref", "citation", "footnote-ref", "fnref", "footnoteref"}
_NOTE_TARGET = re.compile(r"#(?:.*(?:foot|end)?note|fn|ftn|endnote)", re.I)
_MARKER = re.compile(r"^\s*[\[(]?\s*(?:\d{1,4}|[a-zA-Z]|[*†‡§]{1,3})\s*[\])]?\s*$")


def _is_ref(el) -> bool:
    """A reference to a note: epub noteref, Gutenberg ``a.fnanchor``/``a.citation``, or a marker linking to one."""
    if (tokens(el, "type") | tokens(el, "role")) & _REF_TYPES:
        return True
    if localname(el) != "a":
        return False
    if _classes(el) & _REF_CLASSES:
        return True
    href = el.get("href") or ""
    return bool(_NOTE_TARGET.match(href)) and bool(_MARKER.match(_plain(el)))


def _is_direction(el) -> bool:
    return "stage-direction" in tokens(el, "type") or bool(_classes(el) & _DIRECTION_CLASSES)


_SPEAKER_CLASSES = {"speaker", "speakers", "spkr", "persona", "character", "char", "speech-head"}


def _is_persona(el) -> bool:
    return "persona" in tokens(el, "type") or bool(_classes(el) & _SPEAKER_CLASSES)


def _plain(el) -> str:
    return _WS.sub(" ", "".join(t for t in el.itertext() if isinstance(t, str))).strip()


def _note_text(el) -> str:
    """A note's text without its backlink ("↩") and its leading label ("1." / "[1]")."""
    parts = []
    for sub in el.iter():
        if sub is not el and ("backlink" in tokens(sub, "type") or "doc-backlink" in tokens(sub, "role")):
            sub.text = ""
    for block in extract_blocks(el, _NOTE_OPTIONS, _nested=True).blocks:
        parts.append(block.text)
    text = "\n\n".join(parts).replace("↩", "").strip()
    return re.sub(r"^\s*(?:\[\w{1,4}\]|\(\w{1,4}\)|\d{1,4}\.)\s*", "", text)


def notes_by_id(root, idents: set[str]) -> dict[str, str]:
    """Texts of the notes whose element (or the anchor at their start) has one of ``idents`` as id or name."""
    out: dict[str, str] = {}
    for el in root.iter():
        ident = el.get("id") or (el.get("name") if localname(el) == "a" else None)
        if ident not in idents or ident in out:
            continue
        node = el
        while node is not None and localname(node) not in BLOCK_TAGS:
            node = node.getparent()
        if node is not None and localname(node) != "body":
            out[ident] = _note_text(node)
    return out


def _join_heading(segments: list[str]) -> str:
    out = ""
    for seg in segments:
        if seg:
            out = seg if not out else out + (": " if out[-1].isalnum() else " ") + seg
    return out


def _heading_group(el) -> tuple[str, int] | None:
    """An ``hgroup`` (numeral and title, Standard Ebooks style), or a heading whose title is a child marked
    epub:type="title" after a numeral, as one heading: ("II: Beginning Life as a Printer", level)."""
    name = localname(el)
    if name == "hgroup":
        kids = [c for c in el if isinstance(c.tag, str) and not _skipped(c)]
        levels = [HEADING_TAGS[localname(c)] for c in kids if localname(c) in HEADING_TAGS]
        if not levels:
            return None
        return _join_heading([_plain(c) for c in kids]), min(levels)
    if name in HEADING_TAGS:
        kids = [c for c in el if isinstance(c.tag, str)]
        k = next((i for i, c in enumerate(kids) if "title" in tokens(c, "type")), None)
        if not k:
            return None
        before = " ".join([(el.text or "").strip()] + [_plain(c) for c in kids[:k]])
        return _join_heading([before.strip(), " ".join(_plain(c) for c in kids[k:])]), HEADING_TAGS[name]
    return None


def _speaker(el) -> str:
    name = _plain(el).rstrip(".:").strip()
    return title_case(name) if name.isupper() and len(name) > 1 else name


_NOTE_OPTIONS = PrepareOptions()


def extract_blocks(root, options: PrepareOptions | None = None, *, _nested: bool = False) -> Blocks:
    """Blocks of the document's body in reading order (iterative walk: no recursion limit on deep trees)."""
    options = options or PrepareOptions()
    body = None
    if not _nested:
        for el in root.iter():
            if localname(el) == "body":
                body = el
                break
    if body is None:
        body = root
    out = Blocks()
    parts: list[str] = []
    refs: list[tuple[str, str]] = []
    level_stack: list[int] = [0]
    term: list[str] = []  # a dictionary term (dt) waiting for its definition
    items: list[bool] = []  # open list items: True until the item's first paragraph is out
    speaker: list[str] = []  # a play's speaker (a paragraph of its own) waiting for the speech

    def add(text: str, level: int, block_refs: list[tuple[str, str]] | None = None, direction: bool = False) -> None:
        if speaker and not level and not direction:
            name = speaker.pop()
            if options.speakers == SpeakersPolicy.ATTACH:
                text = f"{name}: {text}"
        elif speaker and level:
            speaker.clear()  # a name with no speech before the next heading is not said
        if term and not level and not direction:
            joiner = ": " if term[0][-1:].isalnum() else " "
            text = term.pop() + joiner + text
        elif term:
            out.blocks.append(Block(term.pop(), 0))
        out.blocks.append(Block(text, level, list(block_refs or ()), direction))

    def flush(is_term: bool = False) -> None:
        if not parts:
            return
        raw = "".join(parts)
        parts.clear()
        lines = [_WS.sub(" ", line).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text and items and items[-1] and not level_stack[-1] and "\n" not in text and len(text.split()) <= 3:
            is_term = True  # a list item's short first paragraph ("Temperance.") is said with the next
        if text and items:
            items[-1] = False
        if text and is_term:
            if term:
                out.blocks.append(Block(term.pop(), 0))
            term.append(" ".join(text.split()))
        elif text:
            add(text, level_stack[-1], refs)
        refs.clear()

    def end_term() -> None:
        if term:
            out.blocks.append(Block(term.pop(), 0))

    walker = etree.iterwalk(body, events=("start", "end"))
    skipping: set = set()
    lines_open: set = set()
    pre_depth = 0
    for event, el in walker:
        name = localname(el)
        if event == "start":
            if el is not body and _skipped(el):
                skipping.add(el)
                walker.skip_subtree()
                continue
            ident = el.get("id")
            if el is not body and _is_note(el):
                text = _note_text(el)
                if ident and text:
                    out.notes[ident] = text
                skipping.add(el)
                walker.skip_subtree()
                continue
            if _is_ref(el):
                refs.append((_plain(el).strip("[]()"), el.get("href") or ""))
                skipping.add(el)
                walker.skip_subtree()
                continue
            if el is not body and _is_direction(el):
                flush()
                if options.stage_directions == DirectionsPolicy.SEPARATE:
                    text = _plain(el)
                    if text:
                        add(text, 0, direction=True)
                if ident:
                    out.anchors.setdefault(ident, len(out.blocks))
                skipping.add(el)
                walker.skip_subtree()
                continue
            group = _heading_group(el) if name in ("hgroup", "h1", "h2", "h3", "h4", "h5", "h6") else None
            if group is not None and group[0]:
                flush()
                for sub in el.iter():
                    if sub.get("id"):
                        out.anchors.setdefault(sub.get("id"), len(out.blocks))
                add(group[0], group[1])
                skipping.add(el)
                walker.skip_subtree()
                continue
            if el is not body and _is_persona(el) and name != "td":
                if name in BLOCK_TAGS:  # <p class="speaker">Cooling.</p>: said with the next paragraph
                    flush()
                    speaker[:] = [_speaker(el)] if _plain(el) else []
                elif options.speakers == SpeakersPolicy.ATTACH and _plain(el):
                    parts.append(f"{_speaker(el)}: ")  # <p><span class="speaker">HAMLET.</span> Words</p>
                if ident:
                    out.anchors.setdefault(ident, len(out.blocks))
                skipping.add(el)
                walker.skip_subtree()
                continue
            if name == "table" and el is not body:
                flush()
                if ident:
                    out.anchors.setdefault(ident, len(out.blocks))
                _table(el, options, out, add)
                skipping.add(el)
                walker.skip_subtree()
                continue
            if name == "hr":
                flush()
                add("* * *", 0)
            if name in BLOCK_TAGS and _verse_line(el):
                parts.append("\n")  # a line of a stanza, not a paragraph: the stanza is the block
                lines_open.add(el)
            elif name in BLOCK_TAGS:
                flush()
                level_stack.append(HEADING_TAGS.get(name, level_stack[-1]))
                if name == "li":
                    items.append(True)
            elif name == "br":
                parts.append("\n")
            if ident:
                out.anchors.setdefault(ident, len(out.blocks))
            if name == "pre":
                pre_depth += 1
            if el.text:
                parts.append(el.text if pre_depth else el.text.replace("\n", " "))
        else:
            if el in skipping:
                skipping.discard(el)
            elif el in lines_open:
                lines_open.discard(el)
                parts.append("\n")
            elif name in BLOCK_TAGS:
                flush(is_term=name == "dt")
                level_stack.pop()
                if name == "li":
                    items.pop()
                    end_term()
                elif name == "dl":
                    end_term()
                if name == "pre":
                    pre_depth -= 1
            if el is not body and el.tail:
                parts.append(el.tail if pre_depth else el.tail.replace("\n", " "))
    flush()
    if term:
        out.blocks.append(Block(term.pop(), 0))
    return out


def _table(table, options: PrepareOptions, out: Blocks, add) -> None:
    """A play's lines (speaker cells) as speeches; any other table skipped or read row by row."""
    rows = [tr for tr in table.iter() if localname(tr) == "tr"]
    if any(_is_persona(td) for tr in rows for td in tr if localname(td) in ("td", "th")):
        for tr in rows:
            cells = [td for td in tr if localname(td) in ("td", "th")]
            speaker = " ".join(_speaker(td) for td in cells if _is_persona(td) and _plain(td))
            for td in cells:
                if _is_persona(td):
                    continue
                inner = extract_blocks(td, options, _nested=True)
                out.notes.update(inner.notes)
                for b in inner.blocks:
                    text = b.text
                    if speaker and not b.direction:
                        if options.speakers == SpeakersPolicy.ATTACH:
                            text = f"{speaker}: {text}"
                        speaker = ""
                    add(text, 0, b.refs, b.direction)
        return
    cells = [[c for c in (_plain(td) for td in tr if localname(td) in ("td", "th")) if c] for tr in rows]
    cells = [r for r in cells if r]
    caption = next((_plain(c) for c in table.iter() if localname(c) == "caption"), "")
    if read_rows(cells, options.tables):
        for text in ([row_speech([caption])] if caption else []) + [row_speech(r) for r in cells]:
            add(text, 0)
    elif cells:
        out.skipped.append(f"table{' ' + repr(caption[:40]) if caption else ''} ({len(cells)} rows)")

