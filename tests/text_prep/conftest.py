"""Fixtures for text_prep tests: the shared corpus folder and a builder of small EPUB files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"

XHTML = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">
<head><title>{title}</title></head>
<body{body_attrs}>{body}</body>
</html>
"""


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (../shared/corpus relative to the repository)")
    return CORPUS


def xhtml(body: str, title: str = "x", body_type: str = "") -> str:
    attrs = f' epub:type="{body_type}"' if body_type else ""
    return XHTML.format(title=title, body=body, body_attrs=attrs)


def write_epub(path: Path, *, items: list[tuple[str, str, str]], spine: list[str] | None = None,
               nav: str | None = None, ncx: str | None = None, metadata: str | None = None,
               extra_files: dict[str, bytes] | None = None, manifest_extra: str = "", guide: str = "",
               version: str = "3.0", opf_override: bytes | None = None) -> Path:
    """An EPUB with content files ``items`` = [(id, href, xhtml)], in ``spine`` order (default: items order).

    The package document lives in OEBPS/content.opf; hrefs are relative to it.
    """
    metadata = metadata if metadata is not None else (
        '<dc:title>Test Book</dc:title><dc:creator id="a">Jane Writer</dc:creator><dc:language>en</dc:language>')
    manifest = "".join(f'<item id="{i}" href="{h}" media-type="application/xhtml+xml"/>' for i, h, _ in items)
    if nav is not None:
        manifest += '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
    toc_attr = ""
    if ncx is not None:
        manifest += '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
        toc_attr = ' toc="ncx"'
    manifest += manifest_extra
    spine_ids = spine if spine is not None else [i for i, _, _ in items]
    refs = "".join(f'<itemref idref="{i}"/>' if not i.startswith("!") else f'<itemref idref="{i[1:]}" linear="no"/>'
                   for i in spine_ids)
    opf = (f'<?xml version="1.0" encoding="utf-8"?>\n<package xmlns="http://www.idpf.org/2007/opf" version="{version}" '
           f'unique-identifier="uid"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/" '
           f'xmlns:opf="http://www.idpf.org/2007/opf">{metadata}</metadata>'
           f'<manifest>{manifest}</manifest><spine{toc_attr}>{refs}</spine>{guide}</package>')
    container = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                 'container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                 'media-type="application/oebps-package+xml"/></rootfiles></container>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", container)
        z.writestr("OEBPS/content.opf", opf_override if opf_override is not None else opf)
        for _, href, content in items:
            z.writestr(f"OEBPS/{href}", content)
        if nav is not None:
            z.writestr("OEBPS/nav.xhtml", nav)
        if ncx is not None:
            z.writestr("OEBPS/toc.ncx", ncx)
        for name, data in (extra_files or {}).items():
            z.writestr(name, data)
    return path


def chapter_body(title: str, paragraphs: list[str], tag: str = "h1") -> str:
    return f"<{tag}>{title}</{tag}>" + "".join(f"<p>{p}</p>" for p in paragraphs)


class EpubKit:
    """Builders for test EPUBs, handed to tests by the ``epub`` fixture."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.xhtml = xhtml
        self.chapter = chapter_body

    def write(self, name: str = "book.epub", **kw) -> Path:
        return write_epub(self.folder / name, **kw)


@pytest.fixture()
def epub(tmp_path) -> EpubKit:
    return EpubKit(tmp_path)
