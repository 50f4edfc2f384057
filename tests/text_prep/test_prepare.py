"""prepare(): spoken opening and chapter titles, options, determinism and stable keys, the lossless invariant."""

import importlib

import pytest

from text_prep import Pause, PrepareOptions, TextPrepError, prepare
from text_prep.types import speech_key

BOOK = """THE LIGHTHOUSE

By Mara Keeper


CHAPTER I.

THE LAMP

Dr. Hale lit the lamp at 9:30 p.m. It burned all night. The ships saw it.

"Is it lit?" asked the boy. "It is," said Dr. Hale.

* * *

CHAPTER II.

The storm came in 1891 and lasted 3 days. Nobody slept.
"""


@pytest.fixture()
def book_path(tmp_path):
    p = tmp_path / "lighthouse.txt"
    p.write_text(BOOK)
    return p


def test_opening_and_chapter_titles_are_their_own_chunks(book_path):
    book = prepare(book_path)
    assert (book.title, book.author) == ("The Lighthouse", "Mara Keeper")
    first = book.chapters[0].chunks
    assert [(c.text, c.speech, c.pause) for c in first[:2]] == [
        ("The Lighthouse, by Mara Keeper", "The Lighthouse, by Mara Keeper.", Pause.TITLE),
        ("CHAPTER I. THE LAMP", "Chapter one: The Lamp.", Pause.TITLE),
    ]
    assert first[0].span == first[1].span == (0, 0)
    second = book.chapters[1].chunks
    assert second[0].speech == "Chapter two." and second[0].pause == Pause.TITLE
    assert [c.pause for c in book.chapters[0].chunks[2:]] == [Pause.PARAGRAPH, Pause.CHAPTER]
    assert book.chapters[0].chunks[2].speech == ("Doctor Hale lit the lamp at nine thirty P M. It burned all night. "
                                                 "The ships saw it.")


def test_display_text_stays_as_written(book_path):
    book = prepare(book_path)
    body = [c for c in book.chunks if c.span[0] != c.span[1]]
    assert all(c.text in BOOK for c in body)
    assert any("9:30 p.m." in c.text for c in body) and any("1891" in c.text for c in body)
    assert all("Dr." not in c.speech and "1891" not in c.speech for c in body)


@pytest.mark.parametrize("options,titles", [
    (PrepareOptions(speak_title=False), ["CHAPTER I. THE LAMP", "CHAPTER II."]),
    (PrepareOptions(speak_chapter_titles=False), ["The Lighthouse, by Mara Keeper"]),
    (PrepareOptions(speak_title=False, speak_chapter_titles=False), []),
])
def test_title_options(book_path, options, titles):
    book = prepare(book_path, options)
    assert [c.text for c in book.chunks if c.pause == Pause.TITLE] == titles
    assert all(ch.lossless_violation() is None for ch in book.chapters)


def test_unspeakable_separator_is_merged_and_chunks_are_never_empty(book_path):
    book = prepare(book_path)
    assert all(c.speech.strip() and any(ch.isalnum() for ch in c.speech) for c in book.chunks)
    last = book.chapters[0].chunks[-1]
    assert last.text.endswith("* * *") and last.pause == Pause.CHAPTER


def test_max_chars_and_its_bounds(book_path):
    book = prepare(book_path, PrepareOptions(max_chars=40))
    assert all(len(c.text) <= 40 for c in book.chunks if c.pause != Pause.TITLE and "* * *" not in c.text)
    for bad in (10, 5000):
        with pytest.raises(TextPrepError, match="max_chars"):
            prepare(book_path, PrepareOptions(max_chars=bad))


def test_language_override(book_path):
    assert prepare(book_path).language == "en"
    assert prepare(book_path, PrepareOptions(language="en-GB")).language == "en-GB"


def test_plan_is_deterministic_and_keys_are_content_hashes(book_path, tmp_path):
    a = prepare(book_path).to_json()
    (tmp_path / "elsewhere").mkdir()
    copy = tmp_path / "elsewhere" / book_path.name
    copy.write_bytes(book_path.read_bytes())
    assert prepare(copy).to_json() == a
    assert prepare(book_path).to_json() == a
    book = prepare(book_path)
    assert all(c.key == speech_key(c.speech) for c in book.chunks)
    edited = tmp_path / "edited.txt"
    edited.write_text(BOOK.replace("Nobody slept.", "Everybody slept."))
    keys_a = [c.key for c in book.chunks]
    keys_b = [c.key for c in prepare(edited).chunks]
    assert keys_a[:-1] == keys_b[:-1] and keys_a[-1] != keys_b[-1]  # only the edited chunk changes


def test_progress_reports_every_chapter(book_path):
    seen = []
    book = prepare(book_path, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)] and len(book.chapters) == 2


def test_process_pool_gives_the_same_plan(book_path, monkeypatch):
    prep = importlib.import_module("text_prep.prepare")  # the module, not the function of the same name

    serial = prepare(book_path).to_json()
    monkeypatch.setattr(prep, "PARALLEL_MIN_CHARS", 0)
    monkeypatch.setattr(prep.threading, "active_count", lambda: 1)
    monkeypatch.setattr(prep.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert prep._workers([prep.Section("", "s", "x"), prep.Section("", "s", "y")]) == 2
    assert prepare(book_path).to_json() == serial
