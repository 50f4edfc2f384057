"""Speech text: numbers, years, currency, percentages, times, roman numerals, abbreviations, markers, symbols."""

import pytest

from text_prep.normalize import heading_speech, is_speakable, roman_to_int, speech_text


@pytest.mark.parametrize("text,speech", [
    ("He had 3 dogs and 21 cats.", "He had three dogs and twenty-one cats."),
    ("It was 1,234 miles.", "It was one thousand two hundred and thirty-four miles."),
    ("Pi is 3.14 or so.", "Pi is three point one four or so."),
    ("On the 21st and the 2nd of May.", "On the twenty-first and the second of May."),
    ("In 1891 and in 2005 and in the 1890s.", "In eighteen ninety-one and in two thousand and five and in the "
                                               "eighteen nineties."),
    ("It cost $1.50 and £3 and €12.05.", "It cost one dollar and fifty cents and three pounds and twelve euros and "
                                        "five cents."),
    ("A $5 million prize.", "A five million dollars prize."),
    ("About 45% or 12.5 percent.", "About forty-five percent or twelve point five percent."),
    ("At 10:30 p.m. or 9:05 or 7:00.", "At ten thirty P M or nine oh five or seven o'clock."),
    ("Add ½ cup.", "Add one half cup."),
    ("He lived at 221B, Baker Street.", "He lived at two hundred and twenty-one B, Baker Street."),
])
def test_numbers(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("Mr. Holmes and Mrs. Hudson.", "Mister Holmes and Missus Hudson."),
    ("Dr. Watson lives on Harley Dr. now.", "Doctor Watson lives on Harley Drive now."),
    ("Lord St. Simon lives on Baker St.", "Lord Saint Simon lives on Baker Street."),
    ("Tools, i.e. hammers, e.g. big ones, etc.", "Tools, that is hammers, for example big ones, et cetera."),
    ("Mr Smith met Capt. Nemo.", "Mister Smith met Captain Nemo."),
    ("Smith v. Jones, No. 5.", "Smith versus Jones, number five."),
    ("He said no. Then left.", "He said no. Then left."),
])
def test_abbreviations(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text,speech", [
    ("The woman[1] smiled.", "The woman smiled."),
    ("The woman\u00b2 smiled*.", "The woman smiled."),
    ("[Illustration: A DOG] The dog barked.", "The dog barked."),
    ("See https://www.gutenberg.org/ebooks/1661.", "See gutenberg dot org."),
    ("Write to ann.lee@example.com today.", "Write to ann dot lee at example dot com today."),
    ("Salt & pepper, 2 + 2 = 4, and/or #5.", "Salt and pepper, two plus two equals four, and or number five."),
    ("It was 30\u00b0C.", "It was thirty degrees Celsius."),
    ("A 2 x 4 board, 3\u00d75 cards.", "A two by four board, three by five cards."),
    ("Party time \U0001f389\U0001f600 now!", "Party time now!"),
    ("He was _very_ tired--so tired.", "He was very tired\u2014so tired."),
    ("Soft\u00adhy\u200bphen and word\u2060\u2014joiner.", "Softhyphen and word\u2014joiner."),
    ("Henry VIII read Chapter IV.", "Henry the Eighth read Chapter four."),
    ("Charles VIII. was killed.", "Charles the Eighth was killed."),
    ("Each $.90 at most.", "Each ninety cents at most."),
    ("The GENERAL STRIKE began, said the BBC.", "The General Strike began, said the BBC."),
])
def test_markers_urls_symbols(text, speech):
    assert speech_text(text) == speech


@pytest.mark.parametrize("text", ["* * *", '"', "...", "\u2014", "[Illustration]", "  ", "\U0001f600"])
def test_nothing_to_say(text):
    assert speech_text(text) == ""
    assert not is_speakable(speech_text(text))


@pytest.mark.parametrize("title,speech", [
    ("CHAPTER I. HER TWELFTH BIRTHDAY", "Chapter one. Her Twelfth Birthday."),
    ("CHAPTER XVI. \"TAPS\"", "Chapter sixteen. \"Taps\"."),
    ("IV.", "Four."),
    ("XII", "Twelve."),
    ("Chapter 12", "Chapter twelve."),
    ("PART TWO", "Part Two."),
    ("A Scandal in Bohemia", "A Scandal in Bohemia."),
    ("Book III: The Return", "Book three: The Return."),
    ("CHAPTER XV: ON THE LACK OF A PLAN", "Chapter fifteen: On the Lack of a Plan."),
])
def test_heading_speech(title, speech):
    assert heading_speech(title) == speech


def test_roman_numerals():
    assert [roman_to_int(s) for s in ("I", "IV", "IX", "XIV", "XL", "MCMXC")] == [1, 4, 9, 14, 40, 1990]
    assert roman_to_int("IIII") is None and roman_to_int("ABC") is None


def test_other_language_numbers():
    assert speech_text("Il avait 3 chiens.", "fr") == "Il avait trois chiens."
    assert speech_text("Mr. X", "fr") == "Mr. X"  # English abbreviations only for English
