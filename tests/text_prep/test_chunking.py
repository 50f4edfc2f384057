"""Chunk packing: whole sentences up to max_chars, paragraph bounds, long-sentence splits, merged fragments."""

import re
from pathlib import Path

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


def test_overlong_sentence_is_cut_at_the_strongest_boundary_into_balanced_pieces():
    text = ("The naturalist had travelled for many months across the plains and the hills of the south, "
            "collecting beetles, birds, shells and the seeds of many plants; "
            "he had written down everything that he saw, and in the evenings, by the light of a small lamp, "
            "he compared the specimens with the drawings in his books, which were old and worn, and thought "
            "about the differences between the birds of one island and the next.")
    spans = split_long(text, 0, len(text), 260)
    pieces = [text[a:b] for a, b in spans]
    assert len(pieces) == 2  # the fewest pieces that fit
    assert pieces[0].endswith("plants;")  # the semicolon, not the last comma that fits
    assert all(len(p) >= 260 / 3 for p in pieces)


def test_no_orphan_tail_when_a_balanced_cut_exists():
    text = ", ".join(["one two three four five six seven"] * 9) + ", and the end."  # 326 characters, commas only
    spans = split_long(text, 0, len(text), 300)
    lengths = [b - a for a, b in spans]
    assert len(lengths) == 2 and min(lengths) >= 100  # not 296 + a 30-character tail
    assert text[spans[0][0]:spans[0][1]].endswith(",")


def test_dash_and_colon_beat_commas():
    text = ("He looked at the house, the garden, the gate and the road for a long time: there was nothing "
            "there at all, nothing, and he turned back towards the river, where the boats were waiting.")
    first = text[slice(*split_long(text, 0, len(text), 120)[0])]
    assert first.endswith("time:")


def test_a_sentence_that_fits_is_not_cut():
    text = "A short sentence; with a semicolon."
    assert split_long(text, 0, len(text), 300) == [(0, len(text))]


def _mid_sentence(book, max_chars):
    """(chunks ending mid-sentence, cuts that sentence lengths force, prose chunks) of a prepared book."""
    from text_prep.chapters import paragraph_spans
    from text_prep.sentences import sentence_spans

    mid = forced = total = 0
    for ch in book.chapters:
        ends = set()
        for a, b in paragraph_spans(ch.text):
            for sa, sb in sentence_spans(ch.text, a, b):
                ends.add(sb)
                forced += max(0, -(-(sb - sa) // max_chars) - 1)
        for c in ch.chunks:
            if c.span[0] == c.span[1] or c.pause in (Pause.TITLE, Pause.LINE):
                continue  # spoken titles and verse lines end where the layout says
            total += 1
            # A stage direction in brackets is its own chunk, inside Punkt's sentence: a chunk that ends where
            # one closes, or right before one, does not end mid-sentence.
            after = ch.text[c.span[1]:c.span[1] + 40].lstrip()[:1]
            mid += c.span[1] not in ends and not _CLOSED.search(c.text) and after not in ("[", "(")
    return mid, forced, total


_CLOSED = re.compile(r"(?:[.!?\u2026][\"'\u201d\u2019)\]_*]*|\])\s*$")


def _books(corpus):
    fetched = Path("/work/books")
    extra = sorted(p for p in fetched.iterdir() if p.suffix in (".epub", ".txt", ".html", ".md")) \
        if fetched.is_dir() else []
    return sorted(corpus.iterdir()) + extra


@pytest.mark.slow
def test_mid_sentence_rate_on_real_books(corpus):
    """Chunks end mid-sentence only where a sentence is longer than the limit: at most 1% more such chunks than
    the cuts sentence lengths force, and never more than 23% of a book's chunks. Measured at 300 characters:
    Sherlock Holmes 1.6%, The Little Colonel's Hero 1.2%, News from Nowhere 13.9%, Franklin 19.4%, Origin of
    Species 21.2% (each all forced), Hamlet 0.9%, The Devil's Dictionary 2.8%, North of Boston 0%."""
    from text_prep import PrepareOptions, prepare

    for path in _books(corpus):
        book = prepare(path, PrepareOptions(max_chars=300))
        mid, forced, total = _mid_sentence(book, 300)
        assert total, path.name
        assert mid <= forced + 0.01 * total, (path.name, mid, forced, total)
        assert mid / total <= 0.23, (path.name, mid, total)
