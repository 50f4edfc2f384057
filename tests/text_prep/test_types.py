"""Plan dataclasses: JSON round trip and determinism, content keys, the lossless invariant check."""

import hashlib
import json

from text_prep import Book, Chapter, Chunk, Cover, Pause
from text_prep.types import speech_key


def _book(cover=None) -> Book:
    text = "Hello there.  General Kenobi!\n\n* * *"
    chunks = (
        Chunk.make(0, "Title", "Title.", (0, 0), Pause.TITLE),
        Chunk.make(1, "Hello there.", "Hello there.", (0, 12), Pause.SENTENCE),
        Chunk.make(2, "General Kenobi!\n\n* * *", "General Kenobi!", (14, len(text)), Pause.CHAPTER),
    )
    return Book("T", "A", "en", (Chapter(0, "One", chunks, "a.txt", text),), ("Contents (toc)",), cover)


def test_key_is_sha256_prefix_of_speech():
    c = Chunk.make(0, "Mr. X", "Mister X", (0, 5), "sentence")
    assert c.key == hashlib.sha256(b"Mister X").hexdigest()[:16] == speech_key("Mister X")
    assert c.pause is Pause.SENTENCE


def test_json_round_trip_and_determinism():
    b = _book(cover=Cover(b"\x89PNG", "image/png"))
    s = b.to_json()
    assert s == _book(cover=Cover(b"other", "image/png")).to_json()  # cover bytes are not in the plan
    back = Book.from_json(s)
    assert back == _book(cover=None)
    assert back.to_json() == _book(cover=None).to_json()
    d = json.loads(s)
    assert d["cover"] == {"media_type": "image/png"}
    assert d["skipped"] == ["Contents (toc)"]
    ch = d["chapters"][0]
    assert ch["title"] == "One" and [c["pause"] for c in ch["chunks"]] == ["title", "sentence", "chapter"]
    assert set(ch["chunks"][1]) >= {"text", "speech", "pause", "key", "span"}


def test_write_json_matches_to_json():
    import io

    buf = io.StringIO()
    _book().write_json(buf, indent=1)
    assert buf.getvalue() == _book().to_json(indent=1)


def test_lossless_check_accepts_whitespace_gaps_and_empty_spans():
    assert _book().chapters[0].lossless_violation() is None


def test_lossless_check_finds_drops_overlaps_and_mismatches():
    ch = _book().chapters[0]
    dropped = Chapter(0, "x", ch.chunks[:2], "a", ch.text)
    assert "dropped" in dropped.lossless_violation()
    c1, c2 = ch.chunks[1], ch.chunks[2]
    overlap = Chapter(0, "x", (c1, Chunk(2, ch.text[10:], "x", (10, len(ch.text)), Pause.CHAPTER, "k")), "a", ch.text)
    assert "out of order" in overlap.lossless_violation()
    wrong = Chapter(0, "x", (c1, Chunk(2, "other", "x", c2.span, Pause.CHAPTER, "k")), "a", ch.text)
    assert "differs" in wrong.lossless_violation()


def test_pause_ms_round_trips_and_is_absent_when_zero():
    text = "Wait.\n\n[pause 2s]"
    chunks = (Chunk.make(0, text, "Wait.", (0, len(text)), Pause.SCENE, 2000),)
    book = Book("T", "A", "en", (Chapter(0, "One", chunks, "a.txt", text),))
    d = json.loads(book.to_json())
    assert d["chapters"][0]["chunks"][0]["pause_ms"] == 2000 and d["chapters"][0]["chunks"][0]["pause"] == "scene"
    assert Book.from_json(book.to_json()) == book
    assert "pause_ms" not in _book().to_json()


def test_policy_options_take_strings_and_refuse_unknown_values():
    import pytest

    from text_prep import NotesPolicy, PrepareOptions, TablesPolicy, TextPrepError

    o = PrepareOptions(notes="chapter-end", tables="rows")
    assert o.notes is NotesPolicy.CHAPTER_END and o.tables is TablesPolicy.ROWS
    assert PrepareOptions().replace(speakers="drop").speakers == "drop"
    with pytest.raises(TextPrepError, match="tables must be one of skip, rows, got 'cells'"):
        PrepareOptions(tables="cells")


def test_lexicon_option_is_a_tuple_of_paths_or_a_lexicon():
    from pathlib import Path

    from text_prep import PrepareOptions
    from text_prep.lexicon import Lexicon

    assert PrepareOptions().lexicon == ()
    assert PrepareOptions(lexicon=Path("a.tsv")).lexicon == ("a.tsv",)
    assert PrepareOptions(lexicon=["user.tsv", Path("book.tsv")]).lexicon == ("user.tsv", "book.tsv")
    lex = Lexicon.parse("a\tb\n")
    assert PrepareOptions(lexicon=lex).lexicon is lex
    assert hash(PrepareOptions(lexicon=("a.tsv",))) == hash(PrepareOptions(lexicon="a.tsv"))  # frozen, hashable
