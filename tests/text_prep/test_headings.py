"""Heading speech: numbering read as "Chapter two: Title" (or bare), letters as letters, capitals title-cased."""

import pytest

from text_prep.headings import heading_speech, letter_sections, title_case
from text_prep.types import HeadingNumbers

CHAPTER_LEVEL = [
    ("I: Ancestry and Early Youth in Boston", "Chapter one: Ancestry and Early Youth in Boston."),
    ("XIII: Public Services and Duties", "Chapter thirteen: Public Services and Duties."),
    ("II. THE MEETING IN THE WOODS", "Chapter two: The Meeting in the Woods."),
    ("II THE MEETING IN THE WOODS", "Chapter two: The Meeting in the Woods."),
    ("IV.\u2014THE RETURN", "Chapter four: The Return."),
    ("IV.", "Chapter four."),
    ("XIV", "Chapter fourteen."),
    ("12. The Storm", "Chapter twelve: The Storm."),
    ("CHAPTER I. HER TWELFTH BIRTHDAY", "Chapter one: Her Twelfth Birthday."),
    ("CHAPTER XXXII: THE FEAST\u2019S BEGINNING\u2014THE END",
     "Chapter thirty-two: The Feast\u2019s Beginning\u2014The End."),
    ('CHAPTER XVI. "TAPS"', 'Chapter sixteen: "Taps."'),
    ("Chapter 12", "Chapter twelve."),
    ("# Chapter 3: Into the Woods", "Chapter three: Into the Woods."),
    ("BOOK THE FIRST", "Book the first."),
    ("Act I", "Act one."),
    ("STAVE III. THE SECOND OF THE THREE SPIRITS", "Stave three: The Second of the Three Spirits."),
    ("THE WONDER-BALL'S BEST GIFT", "The Wonder-Ball's Best Gift."),
    ("HENRY VIII AND HIS WIVES", "Henry the Eighth and His Wives."),
    ("I Remember", "I Remember."),  # a title, not a numeral: no separator after "I"
    ("MIX IT UP", "Mix It Up."),
    ("Introduction", "Introduction."),
]


@pytest.mark.parametrize(("title", "spoken"), CHAPTER_LEVEL)
def test_chapter_headings(title, spoken):
    assert heading_speech(title, chapter_level=True) == spoken


@pytest.mark.parametrize(("title", "spoken"), [
    ("II. THE MEETING IN THE WOODS", "Two. The Meeting in the Woods."),
    ("I: Ancestry and Early Youth in Boston", "One. Ancestry and Early Youth in Boston."),
    ("IV.", "Four."),
    ("CHAPTER IV.", "Chapter four."),  # a written label stays
])
def test_bare_numbers_setting(title, spoken):
    assert heading_speech(title, numbers=HeadingNumbers.BARE, chapter_level=True) == spoken


def test_numerals_inside_chapters_are_read_bare():
    assert heading_speech("IV.") == "Four."
    assert heading_speech("III. The Cave") == "Three: The Cave."
    assert heading_speech("Scene II") == "Scene two."


@pytest.mark.parametrize("letter", list("ABCDIKLMVXZ"))
def test_letter_sections_read_as_letters(letter):
    assert heading_speech(letter, chapter_level=True, letters=True) == f"{letter}."


def test_letter_sections_detected_only_for_letter_runs():
    assert letter_sections(["Preface"] + list("ABCDEFGH"))
    assert not letter_sections(["I", "II", "III", "IV", "V"])  # roman chapters
    assert not letter_sections(["C", "D", "M"])  # all valid roman numerals: not evidence of letters
    assert not letter_sections(["A", "Chapter One", "Chapter Two", "Chapter Three", "Chapter Four"])


def test_title_case_keeps_numerals_initials_and_digits():
    assert title_case("PART II OF THE U.S.A. IN 1812") == "Part II of the U.S.A. in 1812"
    assert title_case("A Mixed Case Title") == "A Mixed Case Title"
    assert title_case("THE WONDER-BALL BEGINS TO UNWIND") == "The Wonder-Ball Begins to Unwind"
    assert title_case("O'BRIEN'S RETURN TO D\u2019ARCY") == "O'Brien's Return to D\u2019Arcy"


def test_nothing_to_say_is_empty():
    assert heading_speech("* * *") == ""
