"""HTML/XHTML parsing without entity expansion, and the walk that turns a tree into text blocks.

Parsing never loads DTDs, never resolves entities declared in a document and never touches the network:
a DOCTYPE's internal subset is removed before parsing, named HTML entities are replaced by their characters,
and lxml runs with ``resolve_entities=False, no_network=True, huge_tree=False``.
"""

from __future__ import annotations

import html.entities
import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lxml_html

__all__ = ["Block", "Blocks", "extract_blocks", "parse_markup", "tokens"]

_DOCTYPE = re.compile(r"<!DOCTYPE(?:[^\[>]*\[[\s\S]*?\])?[^>]*>", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
_WS = re.compile(r"\s+")

_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                              remove_comments=True, remove_pis=True)
_HTML_PARSER = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def _entity(m: re.Match) -> str:
    name = m.group(1)
    if name in _XML_ENTITIES:
        return m.group(0)
    cp = html.entities.name2codepoint.get(name)
    return chr(cp) if cp is not None else m.group(0)


def parse_markup(text: str, prefer_xml: bool):
    """Root element of an (X)HTML document given as text; XML first for XHTML, lenient HTML otherwise."""
    text = _XML_DECL.sub("", text, count=1)
    text = _DOCTYPE.sub("", text, count=1)
    text = _NAMED_ENTITY.sub(_entity, text)
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
_SKIP_TYPES = {"noteref", "pagebreak", "doc-noteref", "doc-pagebreak"}


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
    """A paragraph (level 0) or a heading (level 1-6) of plain text; lines of verse are kept with ``\\n``."""

    text: str
    level: int = 0


@dataclass
class Blocks:
    blocks: list[Block] = field(default_factory=list)
    anchors: dict[str, int] = field(default_factory=dict)  # element id -> index of the next block


def extract_blocks(root) -> Blocks:
    """Blocks of the document's body in reading order (iterative walk: no recursion limit on deep trees)."""
    body = None
    for el in root.iter():
        if localname(el) == "body":
            body = el
            break
    if body is None:
        body = root
    out = Blocks()
    parts: list[str] = []
    level_stack: list[int] = [0]

    def flush() -> None:
        if not parts:
            return
        raw = "".join(parts)
        parts.clear()
        lines = [_WS.sub(" ", line).strip() for line in raw.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            out.blocks.append(Block(text, level_stack[-1]))

    walker = etree.iterwalk(body, events=("start", "end"))
    skipping: set = set()
    pre_depth = 0
    for event, el in walker:
        name = localname(el)
        if event == "start":
            if el is not body and _skipped(el):
                skipping.add(el)
                walker.skip_subtree()
                continue
            if name in BLOCK_TAGS:
                flush()
                level_stack.append(HEADING_TAGS.get(name, level_stack[-1]))
            elif name == "br":
                parts.append("\n")
            ident = el.get("id")
            if ident:
                out.anchors.setdefault(ident, len(out.blocks))
            if name == "pre":
                pre_depth += 1
            if el.text:
                parts.append(el.text if pre_depth else el.text.replace("\n", " "))
        else:
            if el in skipping:
                skipping.discard(el)
            elif name in BLOCK_TAGS:
                flush()
                level_stack.pop()
                if name == "pre":
                    pre_depth -= 1
            if el is not body and el.tail:
                parts.append(el.tail if pre_depth else el.tail.replace("\n", " "))
    flush()
    return out
