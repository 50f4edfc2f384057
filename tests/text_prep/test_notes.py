"""One footnote/endnote policy in every format: never read inline; skipped (listed) or read at the chapter end."""

import pytest

from text_prep import Pause, PrepareOptions, prepare

P1 = "The ship sailed at dawn and nobody saw it go, for the whole town was asleep."
P2 = "It came back in the spring with a new crew and a hold full of salt."
P3 = "The harbour was empty again by the summer, and the gulls had it to themselves."
N1 = "The Mary Rose, a brig of Bristol."
N2 = "Salt from Cadiz, by the captain's account."

TXT = f"""CHAPTER I

{P1}[1]

{P2}[2]

CHAPTER II

{P3}

FOOTNOTES:

[1] {N1}

[2] {N2}
"""

TXT_INLINE = f"""CHAPTER I

{P1}[1]

[Footnote 1: {N1}]

{P2}[2]

[Footnote 2: {N2}]

CHAPTER II

{P3}
"""

HTML = f"""<html><head><title>Ships</title></head><body>
<h2>Chapter I</h2><p>{P1}<a class="fnanchor" href="#Footnote_1">[1]</a></p>
<p>{P2}<a class="fnanchor" href="#Footnote_2">[2]</a></p>
<h2>Chapter II</h2><p>{P3}</p>
<div class="footnotes"><h3>FOOTNOTES</h3>
<div class="footnote"><p><a id="Footnote_1" href="#A1" class="label">[1]</a> {N1}</p></div>
<div class="footnote"><p><a id="Footnote_2" href="#A2" class="label">[2]</a> {N2}</p></div></div>
</body></html>"""

OLD_HTML = f"""<html><head><title>Ships</title></head><body>
<h2>Chapter I</h2><p>{P1}<a name="citation1"></a><a href="#footnote1" class="citation">[1]</a></p>
<p>{P2}<a name="citation2"></a><a href="#footnote2" class="citation">[2]</a></p>
<h2>Chapter II</h2><p>{P3}</p>
<h2>FOOTNOTES:</h2>
<p><a name="footnote1"></a><a href="#citation1" class="footnote">[1]</a>&nbsp; {N1}</p>
<p><a name="footnote2"></a><a href="#citation2" class="footnote">[2]</a>&nbsp; {N2}</p>
</body></html>"""


def _epub(epub):
    c1 = epub.xhtml(f'<h2>Chapter I</h2><p>{P1}<a href="endnotes.xhtml#note-1" id="noteref-1" '
                    f'epub:type="noteref">1</a></p>'
                    f'<p>{P2}<a href="endnotes.xhtml#note-2" epub:type="noteref">2</a></p>')
    c2 = epub.xhtml(f"<h2>Chapter II</h2><p>{P3}</p>")
    notes = epub.xhtml(f'<section epub:type="endnotes"><h2>Endnotes</h2><ol>'
                       f'<li id="note-1" epub:type="endnote"><p>{N1} <a href="c1.xhtml#noteref-1" '
                       f'epub:type="backlink">\u21a9</a></p></li>'
                       f'<li id="note-2" epub:type="endnote"><p>{N2}</p></li></ol></section>', body_type="backmatter")
    return epub.write(items=[("c1", "c1.xhtml", c1), ("c2", "c2.xhtml", c2), ("notes", "endnotes.xhtml", notes)])


def _aside_epub(epub):
    c1 = epub.xhtml(f'<h2>Chapter I</h2><p>{P1}<a href="#fn1" epub:type="noteref">1</a></p>'
                    f'<aside id="fn1" epub:type="footnote"><p>{N1}</p></aside>'
                    f'<p>{P2}<a href="#fn2" epub:type="noteref">2</a></p>'
                    f'<aside id="fn2" epub:type="footnote"><p>{N2}</p></aside>')
    c2 = epub.xhtml(f"<h2>Chapter II</h2><p>{P3}</p>")
    return epub.write(items=[("c1", "c1.xhtml", c1), ("c2", "c2.xhtml", c2)])


@pytest.fixture(params=["txt", "txt-braces", "txt-inline", "html", "old-html", "epub", "epub-aside"])
def book_path(request, tmp_path, epub):
    kind = request.param
    if kind.startswith("epub"):
        return _epub(epub) if kind == "epub" else _aside_epub(epub)
    braces = TXT.replace("[1]", "{1}").replace("[2]", "{2}")
    text = {"txt": TXT, "txt-braces": braces, "txt-inline": TXT_INLINE, "html": HTML, "old-html": OLD_HTML}[kind]
    path = tmp_path / ("book.txt" if kind.startswith("txt") else "book.html")
    path.write_text(text, encoding="utf-8")
    return path


def _body(book) -> list[str]:
    return [c.speech for c in book.chunks if c.pause != Pause.TITLE]


def test_notes_are_not_read_by_default(book_path):
    book = prepare(book_path)
    said = " ".join(_body(book))
    assert "Mary Rose" not in said and "Cadiz" not in said and "[1]" not in said
    assert _body(book)[:2] == [P1, P2]
    assert any(s.endswith(": 2 notes (notes)") for s in book.skipped), book.skipped
    for ch in book.chapters:
        assert ch.lossless_violation() is None


def test_notes_read_at_the_end_of_the_chapter_that_cites_them(book_path):
    book = prepare(book_path, PrepareOptions(notes="chapter-end"))
    first = book.chapters[0]
    assert [(c.speech, c.pause) for c in first.chunks[-3:]] == [
        ("Notes.", Pause.TITLE), (f"Note one. {N1}", Pause.PARAGRAPH), (f"Note two. {N2}", Pause.CHAPTER)]
    assert "Mary Rose" not in " ".join(c.speech for c in book.chapters[1].chunks)
    for ch in book.chapters:
        assert ch.lossless_violation() is None


def test_notes_policy_is_validated():
    from text_prep import TextPrepError

    with pytest.raises(TextPrepError, match="notes must be one of skip, chapter-end, got 'inline'"):
        PrepareOptions(notes="inline")


def test_markdown_footnotes_follow_the_same_policy(tmp_path):
    p = tmp_path / "book.md"
    p.write_text(f"# Chapter I\n\n{P1}[^1]\n\n[^1]: {N1}\n\n{P2}[^cadiz]\n\n[^cadiz]: {N2}\n    More about it.\n\n"
                 f"# Chapter II\n\n{P3}\n", encoding="utf-8")
    book = prepare(p)
    assert _body(book) == [P1, P2, P3]
    assert book.skipped == ("Chapter I: 2 notes (notes)",)
    read = prepare(p, PrepareOptions(notes="chapter-end"))
    assert [c.speech for c in read.chapters[0].chunks[-2:]] == [f"Note one. {N1}", f"Note cadiz. {N2} More about it."]
