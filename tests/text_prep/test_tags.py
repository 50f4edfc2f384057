"""Turbo's paralinguistic tags: text_prep's list equals the model's, strip leaves clean speech, keep passes them
verbatim, and the plan stays lossless either way."""

from __future__ import annotations

import pytest

from text_prep import PrepareOptions, prepare
from text_prep.errors import TextPrepError
from text_prep.tags import TAGS, TagsPolicy, find_tags, mask, unmask

BOOK = """The Jest

CHAPTER I.

Well [laugh] fine, he said. Oh [sigh]. [clear throat] Right then, [whispering] quietly.

[laugh]

The end came [gasp], at last. An author's [Laughs] and [bracket] stay words.
"""


def test_the_list_is_the_models():
    from model.turbo.tags import TURBO_TAGS

    assert TAGS == TURBO_TAGS


@pytest.mark.parametrize(("text", "stripped"), [
    ("Well [laugh] fine.", "Well fine."),
    ("Oh [sigh].", "Oh."),
    ("[clear throat] Right then", "Right then"),
    ("Tail [gasp]", "Tail"),
    ('"[laugh] Oh," she said "no" [sigh] again', '"Oh," she said "no" again'),
    ("(a [cough]) b", "(a) b"),
    ("[laugh]", ""),
])
def test_strip_and_keep(text, stripped):
    masked = mask(text)
    assert len(masked) == len(text) and not find_tags(masked)
    assert unmask(masked, TagsPolicy.STRIP) == stripped
    assert unmask(masked, "keep") == text


def test_every_tag_masks_to_a_word_of_its_length():
    for tag in TAGS:
        m = mask(tag)
        assert len(m) == len(tag) and m.isalpha() and m.islower()
        assert unmask(m, "keep") == tag and unmask(m) == ""


def _plan(tmp_path, tags):
    path = tmp_path / "jest.txt"
    path.write_text(BOOK)
    book = prepare(path, PrepareOptions(tags=tags, speak_title=False))
    for ch in book.chapters:
        assert ch.lossless_violation() is None, ch.lossless_violation()
    return book


def test_strip_removes_them_from_speech_only(tmp_path):
    book = _plan(tmp_path, "strip")
    speech = " ".join(c.speech for c in book.chunks)
    assert not find_tags(speech) and " laugh" not in speech and "whispering" not in speech
    assert "Well fine, he said. Oh. Right then, quietly." in speech
    assert "The end came, at last." in speech
    assert "Laughs" in speech and "bracket" in speech   # not tags: read as before
    text = "".join(c.text for c in book.chunks)
    assert "[laugh]" in text and "[gasp]" in text     # the display text is the book's


def test_keep_passes_them_verbatim(tmp_path):
    book = _plan(tmp_path, "keep")
    speech = [c.speech for c in book.chunks]
    assert "Well [laugh] fine, he said. Oh [sigh]. [clear throat] Right then, [whispering] quietly." in speech
    assert "[laugh]" in speech   # a paragraph of one tag is its own chunk
    assert any("The end came [gasp], at last." in s for s in speech)


def test_the_default_is_strip_and_anything_else_is_refused():
    assert PrepareOptions().tags == TagsPolicy.STRIP
    with pytest.raises(TextPrepError, match="tags must be one of strip, keep"):
        PrepareOptions(tags="read")


def test_a_section_opening_with_a_stripped_tag_stays_lossless(tmp_path):
    path = tmp_path / "open.txt"
    path.write_text("[laugh]\n\nHe spoke at last, and the room fell silent. It was late.\n\nAnother paragraph.\n")
    book = prepare(path, PrepareOptions(speak_title=False))
    (chapter,) = book.chapters
    assert chapter.lossless_violation() is None
    first = chapter.chunks[0]
    assert first.text.startswith("[laugh]")
    assert first.speech == "He spoke at last, and the room fell silent. It was late."
    assert all(c.speech for c in chapter.chunks)
