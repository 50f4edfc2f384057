"""Chapter detection in plain text: heading styles, subtitles, contents lists, parts, headingless texts."""

import re

import pytest

from text_prep.chapters import SECTION_TARGET, paragraph_spans, split_chapters

PARA = "This is a paragraph of the story. It has a few sentences in it, and it goes on for a while longer."


def _text(*headings: str, pars: int = 3) -> str:
    out = []
    for h in headings:
        out.append(h)
        out += [PARA] * pars
    return "\n\n".join(out) + "\n"


@pytest.mark.parametrize("headings,titles", [
    (["CHAPTER I.", "CHAPTER II.", "CHAPTER III."], ["CHAPTER I.", "CHAPTER II.", "CHAPTER III."]),
    (["Chapter 12", "Chapter 13"], ["Chapter 12", "Chapter 13"]),
    (["Chapter One: The Start", "Chapter Two: The End"], ["Chapter One: The Start", "Chapter Two: The End"]),
    (["PART ONE", "PART TWO"], ["PART ONE", "PART TWO"]),
    (["I.", "II.", "III.", "IV."], ["I.", "II.", "III.", "IV."]),
    (["# Beginning", "# Middle", "## End"], ["Beginning", "Middle", "End"]),
    (["PROLOGUE", "CHAPTER 1", "CHAPTER 2", "EPILOGUE"], ["PROLOGUE", "CHAPTER 1", "CHAPTER 2", "EPILOGUE"]),
])
def test_heading_styles(headings, titles):
    sections = split_chapters(_text(*headings), "b.txt")
    assert [s.title for s in sections] == titles
    assert all(s.text.count(PARA) == 3 for s in sections)


def test_subtitle_joins_the_heading():
    text = "CHAPTER I.\n\nHER TWELFTH BIRTHDAY\n\n\n" + PARA + "\n\nCHAPTER II\n\nThe Voyage Home\n\n" + PARA
    assert [s.title for s in split_chapters(text, "b")] == ["CHAPTER I. HER TWELFTH BIRTHDAY",
                                                           "CHAPTER II. The Voyage Home"]


def test_sentence_after_heading_is_not_a_subtitle():
    text = "CHAPTER I.\n\nIt was late.\n\n" + PARA + "\n\nCHAPTER II.\n\n" + PARA
    sections = split_chapters(text, "b")
    assert sections[0].title == "CHAPTER I." and sections[0].text.lstrip().startswith("It was late.")


def test_words_like_part_in_prose_are_not_headings():
    text = "Part of the problem\n\nwas the weather.\n\nchapter and verse\n\n" + PARA
    sections = split_chapters(text, "b")
    assert len(sections) == 1 and sections[0].title == ""


def test_gutenberg_contents_list_is_not_chapters():
    contents = "CONTENTS\n\n" + "\n\n".join(f"CHAPTER {r}. A Title Here" for r in ("I", "II", "III", "IV")) + "\n\n"
    text = contents + _text("CHAPTER I.", "CHAPTER II.", "CHAPTER III.", "CHAPTER IV.")
    sections = split_chapters(text, "b")
    assert [s.title for s in sections] == ["", "CHAPTER I.", "CHAPTER II.", "CHAPTER III.", "CHAPTER IV."]
    assert sections[0].matter == "front matter" and "CONTENTS" in sections[0].text


def test_part_heading_directly_followed_by_chapter_is_joined():
    text = "PART ONE\n\nCHAPTER 1\n\n" + PARA + "\n\nCHAPTER 2\n\n" + PARA + "\n\nPART TWO\n\nCHAPTER 3\n\n" + PARA
    assert [s.title for s in split_chapters(text, "b")] == ["PART ONE. CHAPTER 1", "CHAPTER 2",
                                                           "PART TWO. CHAPTER 3"]


def test_lower_level_headings_stay_inside_chapters():
    text = _text("CHAPTER I.", "ACT I.", "SCENE 2", "CHAPTER II.", "III.", pars=1)
    sections = split_chapters(text, "b")
    assert [s.title for s in sections] == ["CHAPTER I.", "CHAPTER II."]
    first = sections[0]
    assert [first.text[a:b] for a, b in first.headings] == ["ACT I.", "SCENE 2"]
    assert [sections[1].text[a:b] for a, b in sections[1].headings] == ["III."]


def test_sections_are_consecutive_slices():
    text = "Preface words here.\n\n" + _text("CHAPTER I.", "CHAPTER II.")
    sections = split_chapters(text, "b")
    rebuilt = ""
    pos = 0
    for s in sections:
        i = text.index(s.text, pos)
        assert not text[pos:i].strip() or re.fullmatch(r"\s*CHAPTER I+\.\s*", text[pos:i])
        rebuilt += s.text
        pos = i + len(s.text)
    assert pos == len(text)


def test_no_headings_gives_sections_of_sensible_size_at_paragraph_boundaries():
    pars = [f"Paragraph {i}. " + PARA * 3 for i in range(800)]
    text = "\n\n".join(pars)
    sections = split_chapters(text, "b")
    assert len(sections) > 3
    assert [s.title for s in sections] == [f"Section {i + 1}" for i in range(len(sections))]
    for s in sections:
        assert len(s.text) <= SECTION_TARGET * 1.5
        for a, b in paragraph_spans(s.text):
            assert s.text[a:b] in pars  # no paragraph was cut
    assert "".join(s.text for s in sections) == text


def test_short_headingless_text_is_one_untitled_section():
    sections = split_chapters(PARA, "b")
    assert len(sections) == 1 and sections[0].title == "" and sections[0].text == PARA


def test_one_paragraph_per_line_files():
    long_line = " ".join([PARA] * 3)
    text = "\n".join(["Chapter 1", long_line, long_line, "Chapter 2", long_line, long_line, long_line])
    sections = split_chapters(text, "b")
    assert [s.title for s in sections] == ["Chapter 1", "Chapter 2"]
    assert [len(paragraph_spans(s.text)) for s in sections] == [2, 3]


def test_book_starting_with_a_heading_takes_its_title_from_the_file_name(tmp_path):
    from text_prep import prepare

    p = tmp_path / "the_quiet_sea.txt"
    p.write_text("Chapter 1\n\n" + PARA + "\n\nChapter 2\n\n" + PARA)
    book = prepare(p)
    assert book.title == "The Quiet Sea" and [c.title for c in book.chapters] == ["Chapter 1", "Chapter 2"]


def test_a_long_text_after_the_credits_and_before_the_first_heading_is_the_book():
    poem = "\n".join(["Thou! whose superior, and aspiring mind", "Can leave the weakness of thy sex behind;"] * 40)
    text = (f"Produced by a volunteer team.\n\nPOEMS\n\nPRINTED AT THE PRESS.\n\n1818.\n\nTHE FEAR OF DEATH.\n\n{poem}"
            f"\n\nI.\n\nThe first short poem.\n\nII.\n\nThe second short poem.\n")
    secs = split_chapters(text, "p.txt")
    assert [(s.title, s.matter) for s in secs] == [("", "front matter"), ("", ""), ("I.", ""), ("II.", "")]
    assert secs[1].text.startswith("THE FEAR OF DEATH.\n\nThou!")
    assert secs[0].text + secs[1].text == text[:text.index("I.\n\nThe first")]  # consecutive slices
