"""Word alignment: normalization, missing vs misheard words, skipped phrases and truncation, word times."""

import pytest

from qa.align import Op, align, allowed_errors, similarity, words
from qa.settings import QASettings


def ops(ref: str, hyp: str):
    a = align(words(ref), words(hyp))
    return a, [(o.op, a.ref[o.ref] if o.ref is not None else None, a.hyp[o.hyp] if o.hyp is not None else None)
               for o in a.ops if o.op != Op.MATCH]


def test_words_normalize_numbers_case_and_punctuation():
    assert words("In 1887, Mr. Holmes's well-known room cost $3.") == [
        "in", "eighteen", "eighty", "seven", "mister", "holmess", "well", "known", "room", "cost", "three", "dollars"]


def test_identical_text_has_no_errors():
    a, diff = ops("The woman, he said.", "the woman he said")
    assert diff == [] and a.errors == 0 and a.last_heard_hyp == 3


def test_a_dropped_word_is_missing_a_sound_alike_is_misheard():
    a, diff = ops("To Sherlock Holmes she is always the woman", "To Sherlok Homes is always the woman")
    assert (Op.MISHEARD, "sherlock", "sherlok") in diff and (Op.MISHEARD, "holmes", "homes") in diff
    assert (Op.MISSING, "she", None) in diff and a.errors == 1


def test_split_and_joined_words_are_mishearings():
    _, diff = ops("engraved on wood blocks today", "engraved on woodblocks to day")
    assert {d[0] for d in diff} == {Op.MISHEARD}


def test_a_different_word_is_wrong_and_weighs_half():
    a, diff = ops("the table was set", "the garden was set")
    assert diff == [(Op.WRONG, "table", "garden")]
    assert a.weighted_errors(0.5) == 0.5 and a.errors == 1


def test_short_function_words_are_always_mishearings():
    _, diff = ops("as of the swimmer", "and on the swimmer")
    assert {d[0] for d in diff} == {Op.MISHEARD}


def test_truncation_and_skipped_phrases():
    a, _ = ops("one two three four five six seven eight", "one two three four")
    assert a.trailing_missing == 4
    a, _ = ops("the quick brown fox jumps over the lazy dog", "the quick dog")
    assert a.missing_run == (6, 2) and a.trailing_missing == 0


def test_words_heard_after_the_text_are_trailing_extra():
    a, _ = ops("it was the end", "it was the end thank you for watching")
    assert a.trailing_extra == 4 and a.last_heard_hyp == 3


def test_a_different_sentence_has_many_errors():
    a, _ = ops("the quick brown fox jumps over the lazy dog", "a man walked into a bar and ordered a drink")
    assert a.weighted_errors() > allowed_errors(9, 0.1, 1) * 2


@pytest.mark.parametrize("a, b, alike", [("colour", "color", True), ("ormstein", "ormsteen", True),
                                         ("table", "garden", False), ("photograph", "fotograf", True)])
def test_similarity(a, b, alike):
    assert (similarity(a, b) >= QASettings().asr_similarity) == alike


def test_allowed_errors_scale_with_length():
    assert [allowed_errors(n, 0.1, 1) for n in (3, 10, 11, 40)] == [1, 1, 2, 4]
