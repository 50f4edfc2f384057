"""Project Gutenberg header, footer and licence stripping, and the header's metadata."""

from text_prep import prepare
from text_prep.gutenberg import body_bounds, header_metadata, language_code

GUTENBERG = """The Project Gutenberg EBook of Tiny Tales, by Ann Author

This eBook is for the use of anyone anywhere at no cost.

Title: Tiny Tales
       or, Small Stories

Author: Ann Author

Language: French

*** START OF THIS PROJECT GUTENBERG EBOOK TINY TALES ***




CHAPTER I.

It began on a Monday. The sun was out.

CHAPTER II.

It ended on a Tuesday. The rain came.

End of the Project Gutenberg EBook of Tiny Tales

*** END OF THIS PROJECT GUTENBERG EBOOK TINY TALES ***

Section 1. General Terms of Use and Redistributing Project Gutenberg-tm electronic works.
You may copy it.
"""


def test_body_bounds_and_metadata():
    start, end, found = body_bounds(GUTENBERG)
    assert found
    body = GUTENBERG[start:end]
    assert "START OF" not in body and "End of the Project" not in body and "General Terms" not in body
    assert "It began on a Monday" in body and "The rain came." in body
    meta = header_metadata(GUTENBERG[:start])
    assert meta == {"title": "Tiny Tales", "author": "Ann Author", "language": "fr"}


def test_no_markers_means_whole_text():
    assert body_bounds("Just a story.\n") == (0, len("Just a story.\n"), False)


def test_language_names_and_codes():
    assert language_code("English") == "en"
    assert language_code("en-GB") == "en-GB"
    assert language_code("Klingon") == ""


def test_prepared_book_has_no_boilerplate(tmp_path):
    p = tmp_path / "tiny.txt"
    p.write_text(GUTENBERG)
    book = prepare(p)
    assert (book.title, book.author, book.language) == ("Tiny Tales", "Ann Author", "fr")
    assert [c.title for c in book.chapters] == ["CHAPTER I.", "CHAPTER II."]
    spoken = " ".join(c.text for c in book.chunks)
    assert "Gutenberg" not in spoken and "License" not in spoken and "Terms" not in spoken
