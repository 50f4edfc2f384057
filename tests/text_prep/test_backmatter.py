"""End of the text: THE END / FINIS close the book; catalogues and advertisements after it are left out."""

import pytest

from text_prep import PrepareOptions, prepare

BODY = "\n\n".join(f"CHAPTER {r}\n\n" + "\n\n".join(
    f"Paragraph {k} of chapter {r} tells of the sea, the ships and the people who waited on the shore." for k in
    range(8)) for r in ("I", "II", "III"))
ADS = """Selections from the Page Company's Books for Girls

THE BLUE BONNET SERIES

A TEXAS BLUE BONNET
  BY CAROLINE E. JACOBS.

"Blue Bonnet has the very finest kind of wholesome girlishness."--Chicago Inter-Ocean."""


def _book(tmp_path, text: str, name: str = "book.txt", **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return prepare(path, PrepareOptions(**options))


def _said(book) -> str:
    return " ".join(c.speech for c in book.chunks)


@pytest.mark.parametrize("marker", ["THE END.", "THE END", "The End", "FINIS.", "Finis", "\u2014THE END\u2014"])
def test_text_after_the_end_is_left_out(tmp_path, marker):
    book = _book(tmp_path, f"{BODY}\n\n{marker}\n\n{ADS}\n")
    assert "Blue Bonnet" not in _said(book) and "Texas" not in _said(book)
    last = book.chapters[-1].chunks[-1]
    assert last.text.strip() == marker  # the marker itself is read
    assert book.skipped == ("CHAPTER III: after the end (31 words)",)


def test_include_front_matter_keeps_everything(tmp_path):
    book = _book(tmp_path, f"{BODY}\n\nTHE END\n\n{ADS}\n", include_front_matter=True)
    assert "Blue Bonnet" in _said(book)


def test_advertisement_header_without_an_end_marker(tmp_path):
    book = _book(tmp_path, f"{BODY}\n\nBOOKS BY THE SAME AUTHOR\n\nThe Little Colonel. Cloth, $1.50.\n")
    assert "Cloth" not in _said(book)
    assert book.skipped == ("CHAPTER III: after the text (10 words)",)


def test_an_end_marker_early_in_the_book_is_not_the_end(tmp_path):
    text = BODY.replace("CHAPTER II\n\n", "CHAPTER II\n\nTHE END\n\n", 1)
    book = _book(tmp_path, text)
    assert "Paragraph seven of chapter III" in _said(book)
    assert book.skipped == ()


def test_the_words_the_end_inside_a_sentence_do_not_end_the_book(tmp_path):
    book = _book(tmp_path, f"{BODY}\n\nAnd that was the end of it, or so they thought.\n\nThey sailed on.\n")
    assert "They sailed on." in _said(book)


def test_html_advertisement_chapter_is_skipped(tmp_path):
    chapters = "".join(f"<h2>Chapter {n}</h2><p>{'Words of the story go on. ' * 30}</p>" for n in (1, 2, 3))
    html = f"<html><body>{chapters}<h2>Advertisements</h2><p>New books from our press.</p></body></html>"
    book = _book(tmp_path, html, "book.html")
    assert "New books" not in _said(book)
    assert "Advertisements (ads)" in book.skipped


@pytest.mark.parametrize("line", ['"The end!" she cried.', "\u201cThe end?\u201d", "the end"])
def test_dialogue_is_not_an_end_marker(tmp_path, line):
    book = _book(tmp_path, f"{BODY}\n\n{line}\n\nThey sailed on.\n")
    assert "They sailed on." in _said(book) and book.skipped == ()


def test_an_end_marker_followed_by_much_of_the_book_is_not_the_end(tmp_path):
    book = _book(tmp_path, BODY.replace("Paragraph 0 of chapter III", "THE END\n\nParagraph 0 of chapter III"))
    assert "Paragraph seven of chapter III" in _said(book) and book.skipped == ()
