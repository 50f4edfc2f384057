"""Paragraph kinds of a section: scene breaks, pause marks, editorial brackets, verse lines, plain-text tables,
all lossless, the same in plain text, markdown and HTML."""

import pytest

from text_prep import Pause, PrepareOptions, prepare
from text_prep.layout import MAX_PAUSE_MS, pause_ms, section_pieces

PROSE = "The night was dark and the wind was high over the hills, and nobody in the village slept that night."


def _prepare(tmp_path, name: str, text: str, **options):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    book = prepare(path, PrepareOptions(**options))
    for ch in book.chapters:
        assert ch.lossless_violation() is None, ch.lossless_violation()
    return book


def _chunks(book):
    return [(c.speech, c.pause, c.pause_ms) for c in book.chunks if c.pause != Pause.TITLE]


TXT = f"""CHAPTER I

{PROSE}

* * *

It was morning.

[pause 2s]

Roses are red,
Violets are blue,
Sugar is sweet,
And so are you.

[Illustration: A rose in a vase]

[Music notation]

The bells rang [Illustration] twice.

CHAPTER II

All quiet.
"""

MD = TXT.replace("CHAPTER I\n", "# Chapter I\n").replace("CHAPTER II\n", "# Chapter II\n").replace(
    "[pause 2s]", '<break time="2s"/>').replace("Roses are red,\n", "Roses are red,  \n")

HTML = f"""<html><head><title>Book</title></head><body>
<h1>Chapter I</h1><p>{PROSE}</p><hr/><p>It was morning.</p><break time="2s"/>
<p>Roses are red,<br/>Violets are blue,<br/>Sugar is sweet,<br/>And so are you.</p>
<p>[Illustration: A rose in a vase]</p><p>[Music notation]</p><p>The bells rang [Illustration] twice.</p>
<h1>Chapter II</h1><p>All quiet.</p></body></html>"""

EXPECTED_FIRST_CHAPTER = [
    (PROSE, Pause.SCENE, 0),
    ("It was morning.", Pause.PARAGRAPH, 2000),
    ("Roses are red,", Pause.LINE, 0),
    ("Violets are blue,", Pause.LINE, 0),
    ("Sugar is sweet,", Pause.LINE, 0),
    ("And so are you.", Pause.PARAGRAPH, 0),
    ("The bells rang twice.", Pause.CHAPTER, 0),
]


@pytest.mark.parametrize(("name", "text"), [("book.txt", TXT), ("book.md", MD), ("book.html", HTML)])
def test_breaks_pauses_brackets_and_verse_alike_in_every_format(tmp_path, name, text):
    book = _prepare(tmp_path, name, text)
    first = book.chapters[0]
    assert [(c.speech, c.pause, c.pause_ms) for c in first.chunks if c.pause != Pause.TITLE] == EXPECTED_FIRST_CHAPTER
    assert [c.speech for c in first.chunks if c.pause == Pause.TITLE][-1] == "Chapter one."


def test_verse_lines_option_off(tmp_path):
    book = _prepare(tmp_path, "book.txt", TXT, verse_lines=False)
    assert ("Roses are red, Violets are blue, Sugar is sweet, And so are you.", Pause.PARAGRAPH, 0) in _chunks(book)


def test_wrapped_prose_is_not_verse(tmp_path):
    para = ("It was the best of times, it was the worst of times, it was the age of\n"
            "wisdom, it was the age of foolishness, it was the epoch of belief, it was\n"
            "the epoch of incredulity, it was the season of Light, it was the season\n"
            "of Darkness.")
    text = "\n\n".join([para] * 12)
    book = _prepare(tmp_path, "book.txt", text)
    assert not any(c.pause == Pause.LINE for c in book.chunks)


TABLE = f"""CHAPTER I

{PROSE}

Rank        Name          Score
1           Ada           98
2           Bob           87
3           Cy            75

The cast was:

King              Rob Moore.
Queen             Allison Walton.
Knight            Malcolm MacIntyre.

The end of it.
"""


def test_plain_text_tables_skipped_word_lists_read(tmp_path):
    book = _prepare(tmp_path, "book.txt", TABLE)
    said = [c.speech for c in book.chunks]
    assert not any("Ada" in s or "ninety-eight" in s for s in said)
    assert book.skipped == ("CHAPTER I: table (4 rows)",)
    assert ["King, Rob Moore.", "Queen, Allison Walton.", "Knight, Malcolm MacIntyre."] == \
        [s for s in said if s.split(",")[0] in ("King", "Queen", "Knight")]


def test_plain_text_tables_by_rows_on_request(tmp_path):
    book = _prepare(tmp_path, "book.txt", TABLE, tables="rows")
    said = [c.speech for c in book.chunks]
    assert "Rank, Name, Score." in said and "one, Ada, ninety-eight." in said
    assert not book.skipped


@pytest.mark.parametrize(("mark", "ms"), [
    ("[pause 2s]", 2000), ("[pause 1.5s]", 1500), ("[pause 500ms]", 500), ("[Pause 3 seconds]", 3000),
    ('<break time="2s"/>', 2000), ("<break time='750ms'/>", 750), ("[pause 999s]", MAX_PAUSE_MS),
    ("[pause]", None), ("pause 2s", None), ("[pause 2s] and more", None),
])
def test_pause_marks(mark, ms):
    assert pause_ms(mark) == ms


def test_scene_break_kinds():
    for mark in ("* * *", "*       *       *", "\u2042", "***", "----", "\u2014\u2014\u2014"):
        text = f"{PROSE}\n\n{mark}\n\nIt was morning."
        parts, _ = section_pieces(text, (), 300, "en", PrepareOptions())
        assert [(p.pause, p.speech) for p in parts] == [(Pause.SCENE, PROSE), (Pause.CHAPTER, "It was morning.")]
        assert text[parts[0].start:parts[0].end].endswith(mark)  # the mark is kept in the span, not spoken


def test_unspoken_text_at_the_start_joins_the_first_piece():
    text = "[Illustration: The harbour]\n\n* * *\n\nIt was morning."
    parts, _ = section_pieces(text, (), 300, "en", PrepareOptions())
    assert [(p.start, p.end, p.speech) for p in parts] == [(0, len(text), "It was morning.")]


def test_a_section_with_nothing_to_say_has_no_pieces():
    parts, _ = section_pieces("[Illustration]\n\n* * *", (), 300, "en", PrepareOptions())
    assert parts == []


def test_inner_headings_are_title_pieces():
    text = "I.\n\nIt was morning.\n\nII.\n\nIt was night."
    two = text.index("II.")
    parts, _ = section_pieces(text, ((0, 2), (two, two + 3)), 300, "en", PrepareOptions())
    assert [(p.speech, p.pause) for p in parts] == [("One.", Pause.TITLE), ("It was morning.", Pause.PARAGRAPH),
                                                     ("Two.", Pause.TITLE), ("It was night.", Pause.CHAPTER)]


PLAY_TXT = """ACT I

Enter Francisco and Barnardo, two sentinels.

BARNARDO.

Who's there?

FRANCISCO.

Nay, answer me. Stand and unfold yourself.

BARNARDO.

Long live the King!

[_Exit._]
"""


def test_plain_text_play_speakers_join_their_lines(tmp_path):
    book = _prepare(tmp_path, "play.txt", PLAY_TXT)
    assert [c.speech for c in book.chunks[2:]] == [
        "Enter Francisco and Barnardo, two sentinels.", "Barnardo: Who's there?",
        "Francisco: Nay, answer me. Stand and unfold yourself.", "Barnardo: Long live the King!", "Exit."]
    quiet = _prepare(tmp_path, "play.txt", PLAY_TXT, speakers="drop", stage_directions="skip")
    assert [c.speech for c in quiet.chunks[2:]] == [
        "Who's there?", "Nay, answer me. Stand and unfold yourself.", "Long live the King!"]


def test_capital_words_in_a_novel_are_not_speakers(tmp_path):
    text = f"CHAPTER I\n\n{PROSE}\n\nHELP!\n\n{PROSE}\n\nSTOP.\n\n{PROSE}\n\nNO.\n\nThe end."
    book = _prepare(tmp_path, "book.txt", text)
    assert "Help!" in [c.speech for c in book.chunks] or "HELP!" in [c.speech for c in book.chunks]


def test_numbered_poems_are_read_bare(tmp_path):
    stanza = ("Loveliest of trees, the cherry now\nIs hung with bloom along the bough,\n"
              "And stands about the woodland ride\nWearing white for Eastertide.")
    text = "\n\n".join(f"{r}\n\n{stanza}\n\n{stanza}" for r in ("I", "II", "III"))
    book = _prepare(tmp_path, "poems.txt", text)
    assert [ch.chunks[0 if ch.index else 1].speech for ch in book.chapters] == ["One.", "Two.", "Three."]
    prose = _prepare(tmp_path, "novel.txt", "\n\n".join(f"{r}\n\n{PROSE}" for r in ("I", "II", "III")))
    assert [ch.chunks[0 if ch.index else 1].speech for ch in prose.chapters] == [
        "Chapter one.", "Chapter two.", "Chapter three."]


def test_marks_on_a_line_of_their_own_inside_a_paragraph(tmp_path):
    text = "CHAPTER I\n\nHe stopped at the door.\n[pause 1s]\nThen he went on.\n*   *   *\nIt was morning.\n"
    book = _prepare(tmp_path, "book.txt", text)
    assert _chunks(book) == [("He stopped at the door.", Pause.PARAGRAPH, 1000),
                             ("Then he went on.", Pause.SCENE, 0), ("It was morning.", Pause.CHAPTER, 0)]


def test_plain_text_dictionary_headwords_join_their_definitions(tmp_path):
    words = ["ABASEMENT", "ABATIS", "ABDICATION", "ABDOMEN", "ABILITY", "ABNORMAL", "ABORIGINIES", "ABRACADABRA",
             "ABRIDGE", "ABRUPT", "ABSCOND"]
    text = "\n\n".join(f"{w}\n\nA word of the letter A, defined at some length here." for w in words)
    book = _prepare(tmp_path, "dictionary.txt", text)
    said = [c.speech for c in book.chunks if c.pause != Pause.TITLE]
    assert said[0] == "Abasement: A word of the letter A, defined at some length here."
    assert len(said) == len(words) and not any(len(s.split()) == 1 for s in said)


def test_editors_placeholders_are_silent_the_authors_brackets_are_read(tmp_path):
    book = _prepare(tmp_path, "book.txt", f"CHAPTER I\n\n{PROSE}\n\n[Sketch of the old mill by the river]\n\n"
                                          "[Thus far written at Passy, 1784.]\n\n[Music]\n\nEnd.")
    assert [c.speech for c in book.chunks][2:] == [PROSE, "Thus far written at Passy, seventeen eighty-four.", "End."]
    play = _prepare(tmp_path, "play.txt", PLAY_TXT.replace("[_Exit._]", "[Exit, with the lantern]"))
    assert [c.speech for c in play.chunks][-1] == "Exit, with the lantern"


def test_plain_text_letter_sections(tmp_path):
    entry = "WORD\n\nA definition of the word, long enough to be a paragraph of its own.\n\n"
    text = "".join(f"{letter}\n\n{entry * 4}" for letter in "ABCDI")
    book = _prepare(tmp_path, "dictionary.txt", text)
    assert [ch.title for ch in book.chapters] == list("ABCDI")
    assert [ch.chunks[0 if ch.index else 1].speech for ch in book.chapters] == ["A.", "B.", "C.", "D.", "I."]


def test_plain_text_play_directions_inside_speeches(tmp_path):
    text = PLAY_TXT.replace("Long live the King!", "Long live [_Aside._] the King! [_Kneels._]")
    book = _prepare(tmp_path, "play.txt", text)
    said = [c.speech for c in book.chunks]
    assert said[-5:] == ["Barnardo: Long live", "Aside.", "the King!", "Kneels.", "Exit."]
    quiet = _prepare(tmp_path, "play.txt", text, stage_directions="skip")
    assert [c.speech for c in quiet.chunks][-1] == "Barnardo: Long live the King!"


def test_markdown_pipe_tables(tmp_path):
    text = ("# One\n\nBefore.\n\n| Feet | Stratum |\n|------|---------|\n| 57,154 | Palaeozoic |\n"
            "| 13,190 | Secondary |\n\n| Name | Part |\n|---|---|\n| King | Rob Moore |\n\nAfter.\n\n# Two\n\nMore.\n")
    book = _prepare(tmp_path, "book.md", text)
    assert [c.speech for c in book.chapters[0].chunks[2:]] == ["Before.", "Name, Part.", "King, Rob Moore.", "After."]
    assert book.skipped == ("One: table (3 rows)",)


def test_a_pause_mark_before_the_first_words_follows_the_chapter_title(tmp_path):
    book = _prepare(tmp_path, "book.md", "# One\n\n[pause 3s]\n\nIt began.\n\n# Two\n\nMore.\n")
    title = book.chapters[0].chunks[1]
    assert (title.speech, title.pause, title.pause_ms) == ("One.", Pause.TITLE, 3000)
