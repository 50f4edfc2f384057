"""Markdown reader: headings to chapters, inline markup rendered as plain text, YAML front matter."""

from text_prep import prepare

MD = """---
title: "Stars Above"
author: Sam Sky
language: en-AU
---
# Stars Above

## The First Night

It was **very** dark, and the [sky](http://example.com) was `full` of *stars*.

- one star
- two stars

## The Second Night

Clouds came.
"""


def test_markdown_chapters_and_plain_text(tmp_path):
    p = tmp_path / "stars.md"
    p.write_text(MD)
    book = prepare(p)
    assert (book.title, book.author, book.language) == ("Stars Above", "Sam Sky", "en-AU")
    assert [c.title for c in book.chapters] == ["The First Night", "The Second Night"]
    text = book.chapters[0].text
    assert "It was very dark, and the sky was full of stars." in text
    assert "one star" in text and "**" not in text and "http" not in text
    assert book.skipped == ("stars.md (titlepage)",)


def test_markdown_without_front_matter(tmp_path):
    p = tmp_path / "notes.md"
    p.write_text("# Only Title\n\nSome words here.\n")
    book = prepare(p)
    assert book.title == "Only Title"
    assert book.chapters[0].title == "Only Title"
