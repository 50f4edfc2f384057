"""Chunk packing: whole sentences up to max_chars, paragraph bounds, long-sentence splits, merged fragments."""

import re

import pytest

from text_prep.chunking import SPEECH_MAX, chunk_section, split_long
from text_prep.types import Pause


def _check_cover(text, pieces):
    pos = 0
    for p in pieces:
        assert pos <= p.start < p.end and not text[pos:p.start].strip()
        pos = p.end
    assert not text[pos:].strip()


def test_sentences_are_packed_whole_up_to_the_limit():
    sentences = [f"Sentence number {w} is here." for w in ("one", "two", "three", "four", "five", "six", "seven")]
    text = " ".join(sentences)
    pieces = chunk_section(text, (), 60)
    _check_cover(text, pieces)
    for p in pieces:
        chunk = text[p.start:p.end]
        assert len(chunk) <= 60
        assert all(s in sentences for s in chunk.replace(". ", ".\n").split("\n"))  # whole sentences only
    assert len(pieces) == 4  # two 26-28 character sentences fit in 60, three do not


def test_never_across_paragraphs():
    text = "One short line.\n\nTwo short line.\n\nThree short line."
    pieces = chunk_section(text, (), 300)
    assert [text[p.start:p.end] for p in pieces] == ["One short line.", "Two short line.", "Three short line."]
    assert [p.pause for p in pieces] == [Pause.PARAGRAPH, Pause.PARAGRAPH, Pause.CHAPTER]


def test_pauses_sentence_paragraph_chapter():
    text = ("A" * 50 + ". " + "B" * 50 + ".\n\n" + "C" * 20 + ".")
    pieces = chunk_section(text, (), 60)
    assert [p.pause for p in pieces] == [Pause.SENTENCE, Pause.PARAGRAPH, Pause.CHAPTER]


def test_long_sentence_splits_at_clause_punctuation_first():
    clause = "the rain fell on the roofs of the old town"
    text = ", ".join([clause] * 12) + "."
    pieces = chunk_section(text, (), 100)
    _check_cover(text, pieces)
    chunks = [text[p.start:p.end] for p in pieces]
    assert all(len(c) <= 100 for c in chunks)
    assert all(c.endswith(",") for c in chunks[:-1])  # cut after commas, not inside clauses


def test_long_clause_splits_at_words():
    text = " ".join(["word"] * 200)
    spans = split_long(text, 0, len(text), 50)
    assert all(b - a <= 50 for a, b in spans)
    assert all(text[a:b].split() == ["word"] * len(text[a:b].split()) for a, b in spans)  # no word was cut
    assert " ".join(text[a:b] for a, b in spans) == text


def test_a_single_huge_word_is_cut_at_the_limit():
    text = "x" * 1000
    spans = split_long(text, 0, 1000, 300)
    assert [b - a for a, b in spans] == [300, 300, 300, 100]


def test_hundred_thousand_characters_without_punctuation():
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    text = " ".join(words[i % 5] for i in range(18_000))[:100_000]
    pieces = chunk_section(text, (), 300)
    _check_cover(text, pieces)
    assert all(p.end - p.start <= 300 for p in pieces)
    assert len(pieces) >= 100_000 // 300
    assert all(p.speech for p in pieces)


@pytest.mark.parametrize("fragment", ['"', "...", "* * *", "\u2014", "[Illustration]"])
def test_unspeakable_fragments_are_merged_not_synthesized(fragment):
    text = f"He left the room.\n\n{fragment}\n\nShe stayed behind."
    pieces = chunk_section(text, (), 300)
    _check_cover(text, pieces)
    assert len(pieces) == 2
    assert fragment in text[pieces[0].start:pieces[0].end]
    assert all(re.search(r"\w", p.speech) for p in pieces)


def test_leading_fragment_merges_forward():
    text = "* * *\n\nShe stayed behind."
    pieces = chunk_section(text, (), 300)
    assert len(pieces) == 1 and (pieces[0].start, pieces[0].end) == (0, len(text))
    assert pieces[0].speech == "She stayed behind."


def test_nothing_speakable_gives_no_pieces():
    assert chunk_section("* * *\n\n...", (), 300) == []


def test_inner_headings_are_title_pieces():
    text = "IV.\n\nThe story goes on. And on."
    pieces = chunk_section(text, ((0, 3),), 300)
    assert pieces[0].pause == Pause.TITLE and pieces[0].speech == "Four."
    assert text[pieces[1].start:pieces[1].end] == "The story goes on. And on."


def test_one_paragraph_per_line_files():
    lines = [f"This is paragraph {i} of a file that has no blank lines at all. " * 5 for i in range(5)]
    text = "\n".join(line.strip() for line in lines)
    pieces = chunk_section(text, (), 1000)
    assert [p.pause for p in pieces[:-1]] == [Pause.PARAGRAPH] * 4


def test_speech_that_outgrows_the_model_cap_is_split():
    text = " ".join(f"{n:,}" for n in range(1_234_567, 1_234_567 + 40))  # 40 numbers, about 400 characters
    pieces = chunk_section(text, (), 600)
    _check_cover(text, pieces)
    assert len(pieces) > 1
    assert all(len(p.speech) <= SPEECH_MAX for p in pieces)
