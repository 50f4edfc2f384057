"""Pronunciation lexicon: file format, matching rules, merging (later wins), errors, and its effect on a plan."""

import pytest

from text_prep import PrepareOptions, TextPrepError, prepare
from text_prep.errors import InputFileError
from text_prep.lexicon import Lexicon, LexiconError, load_lexicon

BOOK = """THE VISIT

By Ann Example


CHAPTER I.

Hermione went to Reading. She was reading a book about Hermione's colonel.

CHAPTER II.

The Colonel came home. Nobody else came.
"""


def test_words_match_whole_words_with_case_rules():
    lex = Lexicon.parse("hermione\ther-MY-oh-nee\nReading\tRedding\ncolonel\tkernel\n")
    assert lex.apply("Hermione's book; hermione went to Reading, reading. The Colonel's colonels.") == (
        "Her-MY-oh-nee's book; her-MY-oh-nee went to Redding, reading. The Kernel's colonels.")


def test_words_with_spaces_and_regex_patterns():
    lex = Lexicon.parse("# a comment\n\nDon Quixote\tDon Key-HO-tay\nre:\\bSt John\\b\tSinjun\n"
                        "re:(\\w+)shire\\b\t\\1sheer\n")
    assert lex.apply("Don Quixote met St John in Yorkshire.") == "Don Key-HO-tay met Sinjun in Yorksheer."


def test_contractions_are_not_words_of_the_entry():
    assert Lexicon.parse("don\tdawn\n").apply("Don said don't, Don.") == "Dawn said don't, Dawn."


def test_files_merge_in_order_and_later_wins(tmp_path):
    user = tmp_path / "user.tsv"
    user.write_text("tomato\ttoMAHto\nHolmes\tHomes\n")
    book = tmp_path / "book.tsv"
    book.write_text("tomato\ttoMAYto\n")
    lex = load_lexicon((user, book))
    assert lex.apply("A tomato for Holmes.") == "A toMAYto for Homes."
    assert len(lex.entries) == 2


@pytest.mark.parametrize("line,message", [
    ("no tab here", "expected 'word<TAB>respelling'"),
    ("re:(unclosed\tx", "bad regular expression"),
    ("re:(a)\t\\2", "bad regular expression"),
    ("\tnothing", "empty word"),
])
def test_bad_lines_are_one_line_errors_naming_the_line(line, message):
    with pytest.raises(LexiconError, match=message) as e:
        Lexicon.parse(f"ok\tfine\n{line}\n", "my.tsv")
    assert "my.tsv:2" in str(e.value) and "\n" not in str(e.value)


def test_missing_file_fails_before_any_work(tmp_path):
    book = tmp_path / "b.txt"
    book.write_text(BOOK)
    with pytest.raises(InputFileError, match="lexicon file not found"):
        prepare(book, PrepareOptions(lexicon=(str(tmp_path / "nope.tsv"),)))
    assert issubclass(LexiconError, TextPrepError)


def test_lexicon_changes_speech_only_and_only_the_keys_it_touches(tmp_path):
    book = tmp_path / "b.txt"
    book.write_text(BOOK)
    lex = tmp_path / "lex.tsv"
    lex.write_text("hermione\ther-MY-oh-nee\nColonel\tKernel\n")
    plain = prepare(book)
    spoken = prepare(book, PrepareOptions(lexicon=(str(lex),)))
    assert [c.text for c in plain.chunks] == [c.text for c in spoken.chunks]  # display text as written
    assert [c.span for c in plain.chunks] == [c.span for c in spoken.chunks]
    changed = [(a.speech, b.speech) for a, b in zip(plain.chunks, spoken.chunks, strict=True) if a.key != b.key]
    assert changed and all(a != b for a, b in changed)
    assert all("Hermione" in a or "Colonel" in a for a, _ in changed)  # only the chunks with those words
    assert any("Her-MY-oh-nee" in b for _, b in changed) and any("Kernel" in b for _, b in changed)
    same = [a for a, b in zip(plain.chunks, spoken.chunks, strict=True) if a.key == b.key]
    assert same and all("Hermione" not in c.speech and "Colonel" not in c.speech for c in same)


def test_options_accept_one_path_or_a_parsed_lexicon(tmp_path):
    assert PrepareOptions(lexicon="a.tsv").lexicon == ("a.tsv",)
    lex = Lexicon.parse("a\tb\n")
    assert load_lexicon(PrepareOptions(lexicon=lex).lexicon) is lex
    assert not load_lexicon(PrepareOptions().lexicon)
    assert lex.digest() != Lexicon.parse("a\tc\n").digest()
