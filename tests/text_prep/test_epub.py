"""EPUB reader: EPUB 3 nav and EPUB 2 NCX, spine order, metadata, cover, front/back matter, DRM, corrupt files."""

import os
import zipfile

import pytest

from text_prep import BookFormatError, Cover, Pause, PrepareOptions, prepare

P1 = "The night was dark and the wind was high over the hills."
P2 = "Nobody in the village slept, and the dogs barked until dawn."

NAV = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Nav</title></head>
<body><nav epub:type="toc"><h2>Contents</h2><ol>
<li><a href="text/title.xhtml">Title Page</a></li>
<li><a href="text/c1.xhtml">The Storm Comes</a><ol><li><a href="text/c1.xhtml#s1">I</a></li></ol></li>
<li><a href="text/c2.xhtml">After the Storm</a></li>
<li><a href="text/colophon.xhtml">Colophon</a></li>
</ol></nav>
<nav epub:type="landmarks"><ol><li><a epub:type="bodymatter" href="text/c1.xhtml">Start</a></li></ol></nav>
</body></html>"""


def _epub3(epub, **kw):
    items = [
        ("title", "text/title.xhtml", epub.xhtml("<section epub:type='titlepage'><h1>Storm</h1></section>")),
        ("c2", "text/c2.xhtml", epub.xhtml(epub.chapter("Chapter Two", [P2, P1]))),
        ("c1", "text/c1.xhtml", epub.xhtml(epub.chapter("Chapter One", [P1, P2]))),
        ("colophon", "text/colophon.xhtml", epub.xhtml("<h2>Colophon</h2><p>Set in Garamond.</p>",
                                                       body_type="backmatter")),
        ("imprint", "text/imprint.xhtml", epub.xhtml("<section epub:type='imprint'><p>Printed by us.</p></section>")),
    ]
    meta = ('<dc:title>Storm Night</dc:title><dc:creator id="ed">An Editor</dc:creator>'
            '<meta refines="#ed" property="role" scheme="marc:relators">edt</meta>'
            '<dc:creator id="au">Wendy Wind</dc:creator><dc:language>en-GB</dc:language>'
            '<meta name="cover" content="cover-img"/>')
    kw.setdefault("metadata", meta)
    extra = {"OEBPS/images/cover.jpg": b"\xff\xd8\xff\xe0JPEGDATA", **kw.pop("extra_files", {})}
    return epub.write(items=items, spine=["title", "imprint", "c1", "c2", "colophon"], nav=NAV,
                      manifest_extra='<item id="cover-img" href="images/cover.jpg" media-type="image/jpeg" '
                                     'properties="cover-image"/>',
                      extra_files=extra, **kw)


def test_epub3_spine_titles_metadata_cover_and_matter(epub):
    book = prepare(_epub3(epub))
    assert (book.title, book.author, book.language) == ("Storm Night", "Wendy Wind", "en-GB")
    assert [c.title for c in book.chapters] == ["The Storm Comes", "After the Storm"]  # spine order, nav titles
    assert [c.source for c in book.chapters] == ["text/c1.xhtml", "text/c2.xhtml"]
    assert book.cover is not None and book.cover.media_type == "image/jpeg" and book.cover.data.startswith(b"\xff\xd8")
    assert book.skipped == ("Title Page (titlepage)", "text/imprint.xhtml (imprint)", "Colophon (colophon)")
    first = book.chapters[0]
    assert first.text == f"{P1}\n\n{P2}"  # the heading became the title
    assert [c.pause for c in first.chunks[:2]] == ["title", "title"]
    assert first.chunks[0].speech == "Storm Night, by Wendy Wind."


def test_front_matter_included_on_request(epub):
    book = prepare(_epub3(epub), PrepareOptions(include_front_matter=True))
    assert [c.source for c in book.chapters] == ["text/imprint.xhtml", "text/c1.xhtml", "text/c2.xhtml",
                                                 "text/colophon.xhtml"]
    assert book.skipped == ("Title Page (no text)",)  # its only text is its heading


NCX = """<?xml version="1.0" encoding="UTF-8"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>
<navPoint id="n1" playOrder="1"><navLabel><text>First Light</text></navLabel><content src="c1.html"/></navPoint>
<navPoint id="n2" playOrder="2"><navLabel><text>Second Light</text></navLabel><content src="c2.html#top"/>
</navPoint></navMap></ncx>"""


def test_epub2_with_ncx_and_guide(epub):
    items = [
        ("toc", "contents.html", epub.xhtml("<h1>Contents</h1><p>First Light ... 1</p>")),
        ("c1", "c1.html", epub.xhtml(f"<div><p>{P1}</p></div>")),
        ("c2", "c2.html", epub.xhtml(f"<h2 id='top'>2</h2><p>{P2}</p>")),
        ("copy", "rights.html", epub.xhtml("<p>Copyright 1999 by Somebody.</p>")),
    ]
    meta = ('<dc:title>Lights</dc:title><dc:creator opf:role="aut">Lux Author</dc:creator>'
            '<dc:language>en</dc:language><meta name="cover" content="pic"/>')
    path = epub.write(items=items, ncx=NCX, metadata=meta, version="2.0",
                      manifest_extra='<item id="pic" href="img/c.png" media-type="image/png"/>',
                      extra_files={"OEBPS/img/c.png": b"\x89PNG-cover"},
                      guide='<guide><reference type="toc" href="contents.html" title="Contents"/>'
                            '<reference type="copyright-page" href="rights.html" title="Copyright"/></guide>')
    book = prepare(path)
    assert (book.title, book.author, book.language) == ("Lights", "Lux Author", "en")
    assert [c.title for c in book.chapters] == ["First Light", "Second Light"]
    assert book.skipped == ("Contents (toc)", "rights.html (copyright)")
    assert book.cover == Cover(b"\x89PNG-cover", "image/png")


def test_non_linear_items_and_image_pages_are_skipped(epub):
    items = [
        ("cov", "cover.xhtml", epub.xhtml('<div><img src="c.jpg" alt="Cover"/></div>')),
        ("c1", "c1.xhtml", epub.xhtml(epub.chapter("One", [P1]))),
        ("note", "note.xhtml", epub.xhtml(epub.chapter("A Note", [P2]))),
    ]
    book = prepare(epub.write(items=items, spine=["cov", "c1", "!note"]))
    assert [c.title for c in book.chapters] == ["One"]
    assert book.skipped == ("cover.xhtml (cover)", "A Note (non-linear)")


def test_several_chapters_in_one_file_split_at_nav_anchors(epub):
    body = (f"<h2 id='a'>Part A</h2><p>{P1}</p><h2 id='b'>Part B</h2><p>{P2}</p><h2 id='c'>Part C</h2><p>{P1}</p>")
    nav = NAV.replace("text/title.xhtml", "all.xhtml#a").replace("text/c1.xhtml#s1", "all.xhtml#zzz") \
             .replace("text/c1.xhtml", "all.xhtml#b").replace("text/c2.xhtml", "all.xhtml#c") \
             .replace("text/colophon.xhtml", "all.xhtml#c")
    book = prepare(epub.write(items=[("all", "all.xhtml", epub.xhtml(body))], nav=nav))
    assert [c.title for c in book.chapters] == ["The Storm Comes", "After the Storm"]
    assert [c.text for c in book.chapters] == [P2, P1]
    assert book.skipped == ("Title Page (titlepage)",)  # matter is recognised per part, by its nav title


def _bad(epub, name, files):
    path = epub.folder / name
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    return path


@pytest.mark.parametrize("case,message", [
    ("not a zip", "not a readable zip"),
    ("no container", "missing 'META-INF/container.xml'"),
    ("bad opf", "cannot parse"),
])
def test_corrupt_epubs(epub, case, message):
    if case == "not a zip":
        path = epub.folder / "bad.epub"
        path.write_bytes(b"PK\x03\x04 this is not really a zip file at all")
    elif case == "no container":
        path = _bad(epub, "bad.epub", {"mimetype": "application/epub+zip"})
    else:
        path = epub.write(items=[("c1", "c1.xhtml", epub.xhtml(f"<p>{P1}</p>"))], opf_override=b"<package><oops")
    with pytest.raises(BookFormatError, match=message):
        prepare(path)


def test_truncated_epub(epub):
    path = _epub3(epub)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BookFormatError, match="corrupt EPUB"):
        prepare(path)


ENCRYPTION = """<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container"
 xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData>
<enc:EncryptionMethod Algorithm="{alg}"/><enc:CipherData><enc:CipherReference URI="{uri}"/></enc:CipherData>
</enc:EncryptedData></encryption>"""


def test_drm_encrypted_epub_is_refused(epub):
    enc = ENCRYPTION.format(alg="http://www.w3.org/2001/04/xmlenc#aes128-cbc", uri="OEBPS/text/c1.xhtml")
    path = _epub3(epub, extra_files={"META-INF/encryption.xml": enc})
    with pytest.raises(BookFormatError, match="DRM"):
        prepare(path)


def test_adobe_rights_file_is_refused(epub):
    path = _epub3(epub, extra_files={"META-INF/rights.xml": "<rights/>"})
    with pytest.raises(BookFormatError, match="DRM"):
        prepare(path)


def test_font_obfuscation_is_not_drm(epub):
    enc = ENCRYPTION.format(alg="http://www.idpf.org/2008/embedding", uri="OEBPS/fonts/a.otf")
    path = _epub3(epub, extra_files={"META-INF/encryption.xml": enc})
    assert len(prepare(path).chapters) == 2


def test_epub_without_text(epub):
    path = epub.write(items=[("c1", "c1.xhtml", epub.xhtml('<p><img src="a.png"/></p>'))])
    with pytest.raises(BookFormatError, match="no readable text"):
        prepare(path)


def test_entity_bomb_in_package_document_is_refused(epub):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<package xmlns="http://www.idpf.org/2007/opf"><metadata><title>&b;</title></metadata></package>')
    path = epub.write(items=[("c1", "c1.xhtml", epub.xhtml(f"<p>{P1}</p>"))], opf_override=bomb)
    with pytest.raises(BookFormatError, match="unsafe XML"):
        prepare(path)


def test_chapter_split_over_two_files_is_one_chapter(epub):
    nav = ('<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><body>'
           '<nav epub:type="toc"><ol><li><a href="c1.xhtml">The Storm Comes</a></li>'
           '<li><a href="c2.xhtml">After the Storm</a></li></ol></nav></body></html>')
    items = [
        ("c1", "c1.xhtml", epub.xhtml(epub.chapter("One", [P1]))),
        ("c1b", "c1_split.xhtml", epub.xhtml(f"<p>{P2}</p>")),
        ("c2", "c2.xhtml", epub.xhtml(epub.chapter("Two", [P1]))),
    ]
    book = prepare(epub.write(items=items, nav=nav))
    assert [c.title for c in book.chapters] == ["The Storm Comes", "After the Storm"]
    assert book.chapters[0].text == f"{P1}\n\n{P2}"
    assert all(ch.lossless_violation() is None for ch in book.chapters)


def test_oversized_member_is_refused(epub, monkeypatch):
    import importlib

    epub_reader = importlib.import_module("text_prep.readers.epub")
    monkeypatch.setattr(epub_reader, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(BookFormatError, match="too large"):
        prepare(_epub3(epub))


def test_gutenberg_epub_boilerplate_is_dropped(epub):
    first = epub.xhtml('<section class="pg-boilerplate pgheader" id="pg-header"><h2>The Project Gutenberg eBook</h2>'
                       "<p>This ebook is for the use of anyone anywhere.</p></section>"
                       f"<h2 id='c1'>Chapter One</h2><p>{P1}</p><h2 id='c2'>Chapter Two</h2><p>{P2}</p>")
    old_style = epub.xhtml(f"<p>Produced by volunteers.</p><p>*** START OF THE PROJECT GUTENBERG EBOOK X ***</p>"
                           f"<h2>Chapter Three</h2><p>{P1}</p><p>*** END OF THE PROJECT GUTENBERG EBOOK X ***</p>"
                           "<p>Section 1. General Terms of Use.</p>")
    licence = epub.xhtml("<h2>THE FULL PROJECT GUTENBERG LICENSE</h2><p>Terms of use.</p>")
    items = [("a", "a.xhtml", first), ("b", "b.xhtml", old_style), ("c", "c.xhtml", licence)]
    book = prepare(epub.write(items=items))
    assert [c.title for c in book.chapters] == ["Chapter One", "Chapter Three"]
    text = " ".join(c.text for c in book.chapters)
    assert "Gutenberg" not in text and "Terms" not in text and "Produced by" not in text
    assert book.skipped == ("c.xhtml (licence)",)


def test_standard_ebooks_headings_poems_and_scene_breaks(epub):
    c1 = epub.xhtml('<section epub:type="chapter"><hgroup><h2 epub:type="ordinal z3998:roman">II</h2>'
                    '<p epub:type="title">Beginning Life as a Printer</p></hgroup>'
                    f'<p>{P1}</p><hr/><p>{P2}</p>'
                    '<blockquote epub:type="z3998:poem"><p><span>In winter I get up at night</span><br/>'
                    '<span>And dress by yellow candle-light.</span></p></blockquote></section>')
    c2 = epub.xhtml('<section epub:type="chapter"><h2><span epub:type="z3998:roman">III</span> '
                    f'<span epub:type="title">Arrival</span></h2><p>{P1}</p></section>')
    book = prepare(epub.write(items=[("c1", "c1.xhtml", c1), ("c2", "c2.xhtml", c2)]))
    assert [(c.speech, c.pause) for c in book.chapters[0].chunks[1:]] == [
        ("Chapter two: Beginning Life as a Printer.", Pause.TITLE), (P1, Pause.SCENE), (P2, Pause.PARAGRAPH),
        ("In winter I get up at night", Pause.LINE), ("And dress by yellow candle-light.", Pause.CHAPTER)]
    assert book.chapters[0].title == "II: Beginning Life as a Printer"
    assert book.chapters[1].chunks[0].speech == "Chapter three: Arrival."
    for ch in book.chapters:
        assert ch.lossless_violation() is None


def _with_member(epub, data: bytes, compress: int):
    """_epub3 whose first chapter is the member ``text/big.xhtml`` = ``data`` (deflated or stored as asked)."""
    path = _epub3(epub)
    with zipfile.ZipFile(path) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
    files["OEBPS/content.opf"] = files["OEBPS/content.opf"].replace(b'href="text/c1.xhtml"', b'href="text/big.xhtml"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
        z.writestr("OEBPS/text/big.xhtml", data, compress_type=compress)
    return path


def test_a_member_inflating_over_200x_is_refused_before_inflating(epub):
    bomb = epub.xhtml("<p>" + " " * 2_000_000 + "</p>").encode()
    with pytest.raises(BookFormatError, match="zip bomb") as e:
        prepare(_with_member(epub, bomb, zipfile.ZIP_DEFLATED))
    assert "\n" not in str(e.value) and "big.xhtml" in str(e.value) and "200x" in str(e.value)


def test_a_member_over_32_mib_is_refused(epub):
    big = os.urandom(32 * 1024 * 1024 + 1)   # incompressible, stored: only its size is wrong
    with pytest.raises(BookFormatError, match="too large") as e:
        prepare(_with_member(epub, big, zipfile.ZIP_STORED))
    assert "\n" not in str(e.value) and "big.xhtml" in str(e.value)


def test_a_large_chapter_that_deflates_like_text_is_read(epub):
    para = " ".join(["The night was dark and the wind was high over the hills."] * 30)
    page = epub.xhtml("<h1>Long</h1>" + "".join(f"<p>{i} {para}</p>" for i in range(1200))).encode()
    assert len(page) > 1_000_000
    book = prepare(_with_member(epub, page, zipfile.ZIP_DEFLATED))
    assert any(len(c.text) > 1_000_000 for c in book.chapters)


def test_more_than_the_total_limit_read_from_one_epub_is_refused(epub, monkeypatch):
    import importlib

    epub_reader = importlib.import_module("text_prep.readers.epub")
    path = _epub3(epub)
    assert prepare(path).chapters
    monkeypatch.setattr(epub_reader, "MAX_TOTAL_BYTES", 2000)   # every member is small: only the total trips
    with pytest.raises(BookFormatError, match="in total") as e:
        prepare(path)
    assert "\n" not in str(e.value)


def test_undefined_entities_in_an_epub_are_not_spoken(epub):
    items = [("c1", "c1.xhtml", epub.xhtml(epub.chapter("One", [f"Tea &lol9;for two. {P1}"])))]
    book = prepare(epub.write(items=items))
    assert book.chapters[0].text.startswith("Tea for two.")
    assert all("lol" not in c.speech and "&" not in c.speech for c in book.chapters[0].chunks)
    assert book.chapters[0].lossless_violation() is None
