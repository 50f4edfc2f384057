"""EPUB 2 and 3: container and package (defusedxml), spine order, titles from the nav document or the NCX,
metadata, cover image, and front/back matter recognised by epub:type, landmarks/guide, file name or title.
A spine item with no nav entry and no heading continues the chapter before it (a chapter split over files).

Project Gutenberg boilerplate (pg-header/pg-footer sections, START/END markers, the licence after END) is
dropped. DRM: ``META-INF/rights.xml``, or an ``encryption.xml`` entry other than font obfuscation, is refused.
Zip bombs are refused before inflating: a member over 32 MiB, over 256 MiB read in all, or a member over 1 MB
inflating more than 200x.
"""

from __future__ import annotations

import posixpath
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urldefrag

import defusedxml.ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from text_prep.document import Document, Section, matter_kind
from text_prep.errors import BookFormatError
from text_prep.readers.files import decode_text
from text_prep.readers.html import GUTENBERG_END, GUTENBERG_START
from text_prep.readers.markup import Block, Blocks, extract_blocks, localname, parse_markup, tokens
from text_prep.readers.sections import blocks_text, resolve_notes
from text_prep.types import Cover, PrepareOptions

__all__ = ["read_epub"]

# Zip-bomb limits (a real book is a few MiB): one member inflated, all members read from one EPUB, and the
# inflation ratio of a member over RATIO_FLOOR bytes (text deflates about 3x, a bomb 1000x).
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
RATIO_FLOOR = 1_000_000
FONT_OBFUSCATION = {"http://www.idpf.org/2008/embedding", "http://ns.adobe.com/pdf/enc#RC"}
XHTML_TYPES = {"application/xhtml+xml", "text/html", "application/xml", "text/x-oeb1-document"}
# epub:type values of body/section elements that mark front/back matter.
MATTER_TYPES = {"imprint", "colophon", "copyright-page", "uncopyright", "titlepage", "halftitlepage", "toc",
                "landmarks", "loi", "lot", "index", "cover", "endnotes", "footnotes", "rearnotes", "seriespage",
                "frontispiece", "errata", "license"}
GUIDE_TYPES = {"toc", "copyright-page", "title-page", "colophon", "cover", "index", "loi", "lot"}


@dataclass
class _Item:
    href: str  # path inside the zip
    media_type: str
    properties: set[str]


@dataclass
class _NavEntry:
    path: str
    fragment: str
    title: str
    depth: int


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml(data: bytes, what: str):
    try:
        return SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise BookFormatError(f"unsafe XML refused in EPUB {what}: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise BookFormatError(f"corrupt EPUB: cannot parse {what}: {exc}") from None


class _Epub:
    def __init__(self, path: Path):
        self.path = path
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError):
            raise BookFormatError(f"corrupt EPUB (not a readable zip archive): {str(path)!r}") from None
        self.names = set(self.zip.namelist())
        self.inflated = 0   # bytes read from members so far (MAX_TOTAL_BYTES)

    def read(self, name: str) -> bytes:
        where = f"{name!r} in {str(self.path)!r}"
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            raise BookFormatError(f"corrupt EPUB: missing {where}") from None
        size, packed = info.file_size, max(info.compress_size, 1)
        if size > MAX_MEMBER_BYTES:
            raise BookFormatError(f"EPUB member {where} is too large ({size} bytes inflated, the limit is "
                                  f"{MAX_MEMBER_BYTES} bytes)")
        if size > RATIO_FLOOR and size > MAX_RATIO * packed:
            raise BookFormatError(f"EPUB member {where} inflates {size // packed}x ({packed} -> {size} bytes; "
                                  f"the limit is {MAX_RATIO}x): a zip bomb, refused")
        if self.inflated + size > MAX_TOTAL_BYTES:
            raise BookFormatError(f"EPUB {str(self.path)!r} inflates to more than {MAX_TOTAL_BYTES} bytes in total "
                                  f"(at {name!r}): a zip bomb, refused")
        try:
            with self.zip.open(info) as f:
                data = f.read(MAX_MEMBER_BYTES + 1)   # the sizes above are the archive's word: read no more
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError) as exc:
            raise BookFormatError(f"corrupt EPUB: cannot read {where} ({exc})") from None
        if len(data) > MAX_MEMBER_BYTES:
            raise BookFormatError(f"EPUB member {where} is too large (over {MAX_MEMBER_BYTES} bytes inflated)")
        self.inflated += len(data)
        return data


def _check_drm(epub: _Epub) -> None:
    if "META-INF/rights.xml" in epub.names:
        raise BookFormatError(f"DRM-protected EPUB (META-INF/rights.xml) cannot be read: {str(epub.path)!r}")
    if "META-INF/encryption.xml" not in epub.names:
        return
    try:
        root = _xml(epub.read("META-INF/encryption.xml"), "META-INF/encryption.xml")
    except BookFormatError:
        raise BookFormatError(f"DRM-protected EPUB (unreadable encryption.xml): {str(epub.path)!r}") from None
    for el in root.iter():
        if _local(el.tag) == "EncryptionMethod" and el.get("Algorithm") not in FONT_OBFUSCATION:
            raise BookFormatError(f"DRM-protected EPUB (encrypted content) cannot be read: {str(epub.path)!r}")


def _resolve(base_dir: str, href: str) -> tuple[str, str]:
    path, frag = urldefrag(href)
    return posixpath.normpath(posixpath.join(base_dir, unquote(path))) if path else "", frag


def _text(el) -> str:
    return " ".join("".join(el.itertext()).split())


def _nav_entries(epub: _Epub, nav_path: str) -> tuple[list[_NavEntry], dict[str, str]]:
    root = parse_markup(decode_text(epub.read(nav_path), nav_path, sniff_declared=True), prefer_xml=True)
    base = posixpath.dirname(nav_path)
    entries: list[_NavEntry] = []
    landmarks: dict[str, str] = {}
    for nav in root.iter():
        if localname(nav) != "nav":
            continue
        kind = tokens(nav, "type")
        for a in nav.iter():
            if localname(a) != "a" or not a.get("href"):
                continue
            path, frag = _resolve(base, a.get("href"))
            if "landmarks" in kind:
                for t in tokens(a, "type"):
                    landmarks.setdefault(path, t)
            elif "toc" in kind:
                depth = sum(1 for anc in a.iterancestors() if localname(anc) in ("ol", "ul"))
                entries.append(_NavEntry(path, frag, _text(a), depth))
    return entries, landmarks


def _ncx_entries(epub: _Epub, ncx_path: str) -> list[_NavEntry]:
    root = _xml(epub.read(ncx_path), ncx_path)
    base = posixpath.dirname(ncx_path)
    entries: list[_NavEntry] = []

    def walk(el, depth: int) -> None:
        for child in el:
            if _local(child.tag) != "navPoint":
                continue
            label = src = ""
            for sub in child:
                if _local(sub.tag) == "navLabel":
                    label = " ".join("".join(sub.itertext()).split())
                elif _local(sub.tag) == "content":
                    src = sub.get("src") or ""
            if src:
                path, frag = _resolve(base, src)
                entries.append(_NavEntry(path, frag, label, depth))
            walk(child, depth + 1)

    for el in root.iter():
        if _local(el.tag) == "navMap":
            walk(el, 1)
    return entries


def _metadata(pkg) -> tuple[str, str, str, dict[str, str]]:
    titles, creators, langs = [], [], []
    roles: dict[str, str] = {}
    metas: dict[str, str] = {}
    for el in pkg.iter():
        name = _local(el.tag)
        text = " ".join((el.text or "").split())
        if name == "title" and text:
            titles.append(text)
        elif name == "creator" and text:
            role = next((v for k, v in el.attrib.items() if _local(k) == "role"), "")
            creators.append((el.get("id") or "", role, text))
        elif name == "language" and text:
            langs.append(text)
        elif name == "meta":
            if el.get("property") == "role" and el.get("refines"):
                roles[el.get("refines").lstrip("#")] = text
            if el.get("name"):
                metas[el.get("name")] = el.get("content") or ""
    authors = [t for ident, role, t in creators if (role or roles.get(ident, "aut")) == "aut"] or [
        t for _, _, t in creators]
    return (titles[0] if titles else "", " and ".join(authors[:3]), langs[0] if langs else "", metas)


def _split_at_anchors(blocks: Blocks, entries: list[_NavEntry]) -> list[tuple[str, list[Block]]]:
    """Blocks of one file cut where its top-level nav entries point (several chapters in one file)."""
    cuts: list[tuple[int, str]] = []
    for e in entries:
        idx = blocks.anchors.get(e.fragment, 0) if e.fragment else 0
        if not cuts or idx > cuts[-1][0]:
            cuts.append((idx, e.title))
        elif idx == cuts[-1][0] and not cuts[-1][1]:
            cuts[-1] = (idx, e.title)
    if not cuts:
        return [("", blocks.blocks)]
    out = []
    if cuts[0][0] > 0:
        out.append(("", blocks.blocks[:cuts[0][0]]))
    for k, (idx, title) in enumerate(cuts):
        end = cuts[k + 1][0] if k + 1 < len(cuts) else len(blocks.blocks)
        out.append((title, blocks.blocks[idx:end]))
    return out


def _strip_gutenberg(blocks: Blocks) -> tuple[Blocks, bool]:
    """Blocks of one file without Gutenberg boilerplate (anchors kept in step), and whether an END was seen."""
    items = list(blocks.blocks)
    anchors = dict(blocks.anchors)
    for i, b in enumerate(items):
        m = GUTENBERG_START.search(b.text)
        if m:
            rest = b.text[m.end():].strip()
            drop = i if rest else i + 1
            items = ([Block(rest, b.level)] if rest else []) + items[i + 1:]
            anchors = {k: max(0, v - drop) for k, v in anchors.items()}
            break
    for i, b in enumerate(items):
        m = GUTENBERG_END.search(b.text)
        if m:
            head = b.text[:m.start()].strip()
            items = items[:i] + ([Block(head, b.level)] if head else [])
            return Blocks(items, {k: min(v, len(items)) for k, v in anchors.items()}), True
    return Blocks(items, anchors), False


def _note_key(path: str, folder: str, href: str) -> str:
    """'path#id' of a note reference's target (a bare '#id' points into the same file)."""
    target, frag = _resolve(folder, href)
    return f"{target or path}#{frag}"


def _body_types(root) -> set[str]:
    """epub:type tokens of the body and of its first sectioning elements."""
    out: set[str] = set()
    for el in root.iter():
        name = localname(el)
        if name == "body":
            out |= tokens(el, "type")
        elif name in ("section", "article", "div", "nav") and len(out) < 16:
            out |= tokens(el, "type")
            if name != "div":
                break
    return out


def read_epub(path: Path, data: bytes | None = None, options: PrepareOptions | None = None) -> Document:
    epub = _Epub(path)
    _check_drm(epub)
    container = _xml(epub.read("META-INF/container.xml"), "META-INF/container.xml")
    opf_path = next((el.get("full-path") for el in container.iter() if _local(el.tag) == "rootfile"), None)
    if not opf_path:
        raise BookFormatError(f"corrupt EPUB: no package document in container.xml: {str(path)!r}")
    pkg = _xml(epub.read(opf_path), opf_path)
    base = posixpath.dirname(opf_path)
    title, author, language, metas = _metadata(pkg)

    manifest: dict[str, _Item] = {}
    spine: list[tuple[str, bool]] = []
    toc_id = ""
    guide: dict[str, str] = {}
    for el in pkg.iter():
        name = _local(el.tag)
        if name == "item" and el.get("id") and el.get("href"):
            manifest[el.get("id")] = _Item(_resolve(base, el.get("href"))[0], el.get("media-type") or "",
                                           set((el.get("properties") or "").split()))
        elif name == "spine":
            toc_id = el.get("toc") or ""
        elif name == "itemref" and el.get("idref"):
            spine.append((el.get("idref"), (el.get("linear") or "yes") != "no"))
        elif name == "reference" and el.get("href") and el.get("type"):
            guide.setdefault(_resolve(base, el.get("href"))[0], el.get("type").lower())

    entries: list[_NavEntry] = []
    landmarks: dict[str, str] = {}
    nav = next((it for it in manifest.values() if "nav" in it.properties), None)
    if nav is not None and nav.href in epub.names:
        entries, landmarks = _nav_entries(epub, nav.href)
    if not entries and toc_id in manifest and manifest[toc_id].href in epub.names:
        entries = _ncx_entries(epub, manifest[toc_id].href)

    sections: list[Section] = []
    skipped: list[str] = []
    notes: dict[str, str] = {}  # "path#id" of a footnote/endnote -> its text
    prev_linear_body = False  # the previous spine item with text was body matter
    after_licence = False  # a Project Gutenberg END marker was seen: the rest is its licence
    for idref, linear in spine:
        item = manifest.get(idref)
        if item is None or item.media_type not in XHTML_TYPES:
            continue
        file_entries = [e for e in entries if e.path == item.href]
        top = min((e.depth for e in file_entries), default=0)
        top_entries = [e for e in file_entries if e.depth == top]
        nav_title = top_entries[0].title if top_entries else ""
        root = parse_markup(decode_text(epub.read(item.href), item.href, sniff_declared=True), prefer_xml=True)
        rel = posixpath.relpath(item.href, base) if base else item.href
        kind = ""
        if not linear:
            kind = "non-linear"
        elif "nav" in item.properties:
            kind = "toc"
        else:
            types = _body_types(root) & MATTER_TYPES
            kind = (matter_kind(*sorted(types)) or (min(types) if types else "")
                    or matter_kind(landmarks.get(item.href, ""))
                    or (matter_kind(guide[item.href]) if guide.get(item.href) in GUIDE_TYPES else "")
                    or matter_kind(posixpath.basename(item.href)))
        if after_licence:
            skipped.append(f"{nav_title or rel} (licence)")
            continue
        extracted = extract_blocks(root, options)
        notes.update((f"{item.href}#{k}", v) for k, v in extracted.notes.items())
        skipped += [f"{nav_title or rel}: {what}" for what in extracted.skipped]
        folder = posixpath.dirname(item.href)
        for b in extracted.blocks:
            b.refs = [(label, _note_key(item.href, folder, href)) for label, href in b.refs]
        blocks, after_licence = _strip_gutenberg(extracted)
        if not blocks.blocks:
            skipped.append(f"{nav_title or rel} ({kind or 'no text'})")
            continue
        continuation = (entries and not file_entries and not kind and not blocks.blocks[0].level and sections
                        and not sections[-1].matter and prev_linear_body)
        prev_linear_body = not kind
        if continuation:
            # A chapter split over several files (e-book converters do this): no nav entry, no heading.
            prev = sections[-1]
            text, heads = blocks_text(blocks.blocks)
            offset = len(prev.text) + 2
            prev.text = f"{prev.text}\n\n{text}"
            prev.headings = prev.headings + tuple((a + offset, b + offset) for a, b in heads)
            prev.notes += [r for b in blocks.blocks for r in b.refs]
            continue
        parts = _split_at_anchors(blocks, top_entries) if len(top_entries) > 1 else [(nav_title, blocks.blocks)]
        for part_title, part_blocks in parts:
            if part_blocks and part_blocks[0].level:
                heading = part_blocks[0].text.replace("\n", " ")
                part_blocks = part_blocks[1:]
                part_title = part_title or heading
            text, heads = blocks_text(part_blocks)
            sections.append(Section(part_title, rel, text, heads, kind or matter_kind(part_title),
                                    notes=[r for b in part_blocks for r in b.refs]))
    resolve_notes(sections, notes, lambda _sec, href: href)
    cover = _cover(epub, manifest, metas)
    return Document(title, author, language, sections, cover, skipped)


def _cover(epub: _Epub, manifest: dict[str, _Item], metas: dict[str, str]) -> Cover | None:
    item = next((it for it in manifest.values() if "cover-image" in it.properties), None)
    if item is None and metas.get("cover") in manifest:
        item = manifest[metas["cover"]]
    if item is None or not item.media_type.startswith("image/") or item.href not in epub.names:
        return None
    return Cover(epub.read(item.href), item.media_type)
