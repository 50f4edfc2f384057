"""HTML/XHTML reader: heading levels to chapters, front matter, Gutenberg HTML, page numbers, entity safety."""

import time

from text_prep import prepare
from text_prep.readers import read_document
from text_prep.readers.markup import extract_blocks, parse_markup

PARA = "<p>It was a fine day in the old town, and everybody was out walking along the river.</p>"

HTML = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>The River Book</title>
<meta name="author" content="Rhea Banks"><style>p {{ color: red }}</style><script>var x = 1;</script></head>
<body>
<h1>THE RIVER BOOK</h1>
<p>Copyright 1901. All rights reserved.</p>
<h2>Chapter I: Morning</h2>{PARA}
<p>He said <span class="pagenum">[Pg 7]</span>hello&nbsp;there &amp; left.</p>
<h3>A subsection</h3>{PARA}
<h2>Chapter II: Evening</h2>{PARA}<p>Line one<br/>line two</p>
<h2>Footnotes</h2><p>[1] A note.</p>
</body></html>"""


def test_chapters_titles_and_front_matter(tmp_path):
    p = tmp_path / "river.html"
    p.write_text(HTML)
    book = prepare(p)
    assert (book.title, book.author, book.language) == ("The River Book", "Rhea Banks", "en-US")
    assert [c.title for c in book.chapters] == ["Chapter I: Morning", "Chapter II: Evening"]
    assert book.skipped == ("river.html (front matter)", "Footnotes (notes)")
    first = book.chapters[0]
    assert "He said hello there & left." in first.text  # page number dropped, entities decoded
    assert "Pg 7" not in first.text and "var x" not in first.text and "color" not in first.text
    titles = [c for c in first.chunks if c.pause == "title"]
    assert [c.text for c in titles] == ["The River Book, by Rhea Banks", "Chapter I: Morning", "A subsection"]
    assert "Line one\nline two" in book.chapters[1].text


def test_include_front_matter_keeps_it(tmp_path):
    from text_prep import PrepareOptions

    p = tmp_path / "river.html"
    p.write_text(HTML)
    book = prepare(p, PrepareOptions(include_front_matter=True))
    assert len(book.chapters) == 4 and book.skipped == ()


def test_gutenberg_html_is_stripped(tmp_path):
    html = ("<html><body><h2>Moby, by Herman</h2><pre>The Project Gutenberg eBook\n\nTitle: Moby Dick\n\n"
            "Author: Herman Melville\n\nLanguage: English\n\n*** START OF THE PROJECT GUTENBERG EBOOK MOBY ***</pre>"
            f"<h2>CHAPTER 1</h2>{PARA}<h2>CHAPTER 2</h2>{PARA}"
            "<p>*** END OF THE PROJECT GUTENBERG EBOOK MOBY ***</p><p>Section 1. License terms.</p></body></html>")
    p = tmp_path / "moby.htm"
    p.write_text(html)
    book = prepare(p)
    assert (book.title, book.author, book.language) == ("Moby Dick", "Herman Melville", "en")
    assert [c.title for c in book.chapters] == ["CHAPTER 1", "CHAPTER 2"]
    assert "License" not in book.chapters[-1].text


def test_plain_text_headings_inside_paragraphs(tmp_path):
    p = tmp_path / "flat.html"
    p.write_text(f"<html><body><p>CHAPTER I.</p>{PARA}<p>CHAPTER II.</p>{PARA}</body></html>")
    assert [c.title for c in prepare(p).chapters] == ["CHAPTER I.", "CHAPTER II."]


BOMB = """<?xml version="1.0"?>
<!DOCTYPE html [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
 <!ENTITY ext SYSTEM "file:///etc/passwd">
]>
<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Boom &f; &ext; done.</p><p>Caf&eacute; &amp; more.</p></body></html>
"""


def test_entity_expansion_and_external_entities_are_not_resolved(tmp_path):
    for suffix in (".xhtml", ".html"):
        p = tmp_path / f"bomb{suffix}"
        p.write_text(BOMB)
        t0 = time.perf_counter()
        doc = read_document(p)
        assert time.perf_counter() - t0 < 2
        text = " ".join(s.text for s in doc.sections)
        assert "aaaaaaaaaa" not in text and "root:" not in text
        assert "Café & more." in text


def test_deeply_nested_markup():
    # libxml2 refuses more than 256 levels without XML_PARSE_HUGE, which we leave off on purpose
    for prefer_xml in (True, False):
        root = parse_markup("<html><body>" + "<div>" * 250 + "<p>deep text</p>" + "</div>" * 250 + "</body></html>",
                            prefer_xml=prefer_xml)
        assert [b.text for b in extract_blocks(root).blocks] == ["deep text"]


def test_parts_above_chapters(tmp_path):
    chapters = "".join(f"<h2>Chapter {n}</h2>{PARA}" for n in range(1, 4))
    p = tmp_path / "parts.html"
    p.write_text(f"<html><body><h1>Part One</h1>{chapters}<h1>Part Two</h1><p>A short part preface.</p>{chapters}"
                 "</body></html>")
    book = prepare(p)
    assert [c.title for c in book.chapters] == ["Part One. Chapter 1", "Chapter 2", "Chapter 3", "Part Two",
                                                "Chapter 1", "Chapter 2", "Chapter 3"]


def test_new_style_gutenberg_html(tmp_path):
    html = ("<html><head><title>The Project Gutenberg eBook of Moby Dick, by Herman Melville</title></head><body>"
            '<section class="pg-boilerplate pgheader" id="pg-header"><p>Title: Moby Dick</p>'
            "<p>*** START OF THE PROJECT GUTENBERG EBOOK MOBY DICK ***</p></section>"
            f"<h2>CHAPTER 1</h2>{PARA}<h2>CHAPTER 2</h2>{PARA}"
            '<section class="pg-boilerplate pgheader" id="pg-footer"><p>*** END OF THE PROJECT GUTENBERG EBOOK ***'
            "</p><p>Section 1. License.</p></section></body></html>")
    p = tmp_path / "moby.html"
    p.write_text(html)
    book = prepare(p)
    assert (book.title, book.author) == ("Moby Dick", "Herman Melville")
    assert [c.title for c in book.chapters] == ["CHAPTER 1", "CHAPTER 2"]
    assert "License" not in " ".join(c.text for c in book.chapters)


PLAY = """<html><head><title>Play</title></head><body>
<h2>Act I</h2><p>Elsinore. A platform.</p>
<table><tr><td></td><td><i class="stage">Enter Bernardo.</i></td></tr>
<tr><td epub:type="z3998:persona">BERNARDO.</td><td>Who's there?</td></tr>
<tr><td epub:type="z3998:persona">Francisco</td><td><i epub:type="z3998:stage-direction">Aside.</i> Stand,
and unfold yourself. <i epub:type="z3998:stage-direction">Exit.</i></td></tr>
<tr><td epub:type="z3998:persona">Bernardo</td><td><p>Well, good night.<br/>If you do meet Horatio,<br/>Bid him
make haste.</p></td></tr></table>
<h2>Act II</h2><p>A room.</p></body></html>"""


def _speech(path, **options):
    from text_prep import PrepareOptions

    book = prepare(path, PrepareOptions(**options))
    return [(c.speech, str(c.pause)) for c in book.chapters[0].chunks if c.pause != "title"]


def test_play_lines_carry_their_speaker_and_directions_stand_apart(tmp_path):
    p = tmp_path / "play.html"
    p.write_text(PLAY, encoding="utf-8")
    assert _speech(p) == [
        ("Elsinore. A platform.", "paragraph"), ("Enter Bernardo.", "paragraph"),
        ("Bernardo: Who's there?", "paragraph"), ("Aside.", "paragraph"),
        ("Francisco: Stand, and unfold yourself.", "paragraph"), ("Exit.", "paragraph"),
        ("Bernardo: Well, good night.", "line"), ("If you do meet Horatio,", "line"),
        ("Bid him make haste.", "chapter")]
    assert _speech(p, speakers="drop", stage_directions="skip") == [
        ("Elsinore. A platform.", "paragraph"), ("Who's there?", "paragraph"),
        ("Stand, and unfold yourself.", "paragraph"), ("Well, good night.", "line"),
        ("If you do meet Horatio,", "line"), ("Bid him make haste.", "chapter")]


DICTIONARY = """<html><body><h2>C</h2><dl>
<dt><dfn>Cabbage</dfn></dt><dd><p>A familiar kitchen-garden vegetable.</p><p>More about it.</p></dd>
<dt>CALAMITY, n.</dt><dd><p>A plain reminder.</p></dd></dl>
<h2>D</h2><dl><dt>Dance</dt><dd><p>To leap about.</p></dd></dl>
<h2>E</h2><dl><dt>Eat</dt><dd><p>To perform the functions of mastication.</p></dd></dl></body></html>"""


def test_dictionary_terms_join_their_definitions_and_letters_are_letters(tmp_path):
    p = tmp_path / "dict.html"
    p.write_text(DICTIONARY, encoding="utf-8")
    book = prepare(p)
    assert [c.speech for c in book.chapters[0].chunks[1:]] == [
        "C.", "Cabbage: A familiar kitchen-garden vegetable.", "More about it.", "Calamity, n. A plain reminder."]
    assert [ch.chunks[0 if ch.index else 1].speech for ch in book.chapters] == ["C.", "D.", "E."]


def test_tables_skipped_or_read_by_rows(tmp_path):
    from text_prep import PrepareOptions

    table = ("<table><caption>Virtues</caption><tr><td></td><td>S.</td><td>M.</td><td>T.</td></tr>"
             "<tr><td>Temperance</td><td>*</td><td></td><td>*</td></tr></table>")
    p = tmp_path / "t.html"
    p.write_text(f"<html><body><h1>One</h1><p>Before.</p>{table}<p>After.</p>"
                 f"<h1>Two</h1><p>Goods:</p><table><tr><td>6 lbs. loaf sugar.</td><td>1 Gloucester cheese.</td></tr>"
                 f"<tr><td>1 lb. green tea.</td><td>2 doz. old Madeira wine.</td></tr></table></body></html>")
    book = prepare(p)
    assert [c.speech for c in book.chapters[0].chunks[2:]] == ["Before.", "After."]
    assert book.skipped == ("table 'Virtues' (2 rows)",)
    assert len(book.chapters[1].chunks) == 4  # title, "Goods:", two rows read (a list of words, not figures)
    rows = prepare(p, PrepareOptions(tables="rows"))
    assert [c.speech for c in rows.chapters[0].chunks[2:5]] == ["Before.", "Virtues.", "S., M., T."]


def test_gutenberg_poem_lines_as_blocks_are_one_stanza(tmp_path):
    p = tmp_path / "poem.html"
    p.write_text('<html><body><h1>One</h1><div class="poem"><div class="stanza">'
                 '<div class="i0">In winter I get up at night</div>'
                 '<div class="i2">And dress by yellow candle-light.</div>'
                 '</div><div class="stanza"><p class="line">In summer, quite the other way,</p>'
                 '<p class="line">I have to go to bed by day.</p></div></div><p>After.</p></body></html>')
    assert _speech(p) == [
        ("In winter I get up at night", "line"), ("And dress by yellow candle-light.", "paragraph"),
        ("In summer, quite the other way,", "line"), ("I have to go to bed by day.", "paragraph"),
        ("After.", "chapter")]


def test_gutenberg_play_speaker_paragraphs(tmp_path):
    p = tmp_path / "gplay.html"
    p.write_text('<html><body><h2>Act I</h2><p class="speaker">Cooling.</p><p><span class="stagedir">Referring to '
                 'a plan.</span> Miss Connify, where are you?</p><p class="speaker">Gladys.</p><p>Here I stand.</p>'
                 '<p><span class="speaker">ROPER.</span> And I.</p><h2>Act II</h2><p>Later.</p></body></html>')
    assert _speech(p) == [("Referring to a plan.", "paragraph"), ("Cooling: Miss Connify, where are you?", "paragraph"),
                          ("Gladys: Here I stand.", "paragraph"), ("Roper: And I.", "chapter")]
    assert _speech(p, speakers="drop", stage_directions="skip") == [
        ("Miss Connify, where are you?", "paragraph"), ("Here I stand.", "paragraph"), ("And I.", "chapter")]


LOL = ('<?xml version="1.0"?><!DOCTYPE html [<!ENTITY lol "lol"><!ENTITY lol9 "&lol;&lol;&lol;">]>'
       '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Chapter One</h1>'
       '<p>Tea &lol9;for two&#xZZ; and &#99999999;three &hellip; &NotAnEntity; &LT;b&GT; all said.</p>'
       '<p>It was a fine day in the old town, and everybody was out walking along the river.</p></body></html>')


def test_undefined_entities_and_bad_character_references_are_never_spoken(tmp_path):
    for suffix in (".xhtml", ".html"):
        p = tmp_path / f"lol{suffix}"
        p.write_text(LOL)
        book = prepare(p)
        speech = " ".join(c.speech for ch in book.chapters for c in ch.chunks)
        text = " ".join(ch.text for ch in book.chapters)
        for junk in ("&", "lol", "#x", "NotAnEntity", "\ufffd"):
            assert junk not in speech and junk not in text, (suffix, junk)
        assert "Tea for two and three \u2026 <b> all said." in text   # defined ones (HTML5 names too) decoded
        assert all(ch.lossless_violation() is None for ch in book.chapters)
