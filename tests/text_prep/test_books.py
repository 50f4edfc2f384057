"""Public books of other shapes (a play, poetry, a dictionary, footnoted nonfiction, natural history): spoken
chapter titles, one-word chunk share, what is left out, and how plays, verse, tables and notes are read.

The books are Standard Ebooks sources zipped into EPUBs, outside the repository: in $TOMECAST_BOOKS (default
/work/books), named as in BOOKS below. To build one from a clone of github.com/standardebooks/<repo>:

    git --git-dir=<clone>/.git archive HEAD src | tar -x -C /tmp/x && cd /tmp/x/src \\
      && zip -X0q /work/books/<name>.epub mimetype && zip -Xrq9 /work/books/<name>.epub . -x mimetype

Project Gutenberg texts come from GITenberg clones (github.com/GITenberg/<repo>), copied as named in GUTENBERG:

    git --git-dir=<clone>/.git show HEAD:3261.txt > /work/books/news-from-nowhere.txt

Tests of a missing book are skipped with its path in the reason.
"""

import os
from functools import cache
from pathlib import Path

import pytest

from text_prep import Pause, PrepareOptions, prepare

BOOKS_DIR = Path(os.environ.get("TOMECAST_BOOKS", "/work/books"))
BOOKS = {
    "hamlet": "william-shakespeare_hamlet",
    "franklin-autobiography": "benjamin-franklin_the-autobiography-of-benjamin-franklin",
    "devils-dictionary": "ambrose-bierce_the-devils-dictionary",
    "north-of-boston": "robert-frost_north-of-boston",
    "origin-of-species": "charles-darwin_the-origin-of-species",
}


# file under $TOMECAST_BOOKS: (GITenberg repository, file in it)
GUTENBERG = {
    "news-from-nowhere.txt": (
        "News-from-Nowhere--Or-An-Epoch-of-Rest--13-Being-Some-Chapters-from-a-Utopian-Romance_3261", "3261.txt"),
    "devils-dictionary.txt": ("The-Devil-s-Dictionary_972", "972.txt"),
    "extra/mind-the-paint-girl.txt": ("The-Mind-the-Paint-Girl--13-A-Comedy-in-Four-Acts_21849", "21849-8.txt"),
    "mind-the-paint-girl.html": ("The-Mind-the-Paint-Girl--13-A-Comedy-in-Four-Acts_21849", "21849-h/21849-h.htm"),
    "liberty-minstrel.txt": ("The-Liberty-Minstrel_22089", "22089-8.txt"),
}


@cache
def book(name: str, **options):
    path = BOOKS_DIR / (name if name in GUTENBERG else f"{name}.epub")
    if not path.is_file():
        source = f"GITenberg/{GUTENBERG[name][0]}" if name in GUTENBERG else f"standardebooks/{BOOKS[name]}"
        pytest.skip(f"{path} not found (build it from github.com/{source}, see module docstring)")
    return prepare(path, PrepareOptions(**options))


def spoken_titles(b) -> list[str]:
    return [next(c.speech for c in ch.chunks if c.pause == Pause.TITLE and c.text == ch.title) for ch in b.chapters]


def one_word_share(b) -> float:
    body = [c for c in b.chunks if c.pause != Pause.TITLE]
    return sum(1 for c in body if len(c.speech.split()) == 1) / len(body)


def speeches(b) -> list[str]:
    return [c.speech for c in b.chunks]


@pytest.mark.parametrize("name", sorted(BOOKS))
def test_lossless_and_every_chunk_speaks(name):
    b = book(name)
    for ch in b.chapters:
        assert ch.lossless_violation() is None, (ch.title, ch.lossless_violation())
        assert ch.chunks[-1].pause == Pause.CHAPTER
        assert all(any(x.isalnum() for x in c.speech) for c in ch.chunks)


# name: (first spoken chapter titles, most one-word share, entries that must be in skipped)
EXPECTED = {
    "hamlet": (["Dramatis Personae.", "Act one.", "Act two.", "Act three.", "Act four.", "Act five."], 0.03,
               ["Endnotes (notes)", "Colophon (colophon)"]),
    "franklin-autobiography": (
        ["Introduction.", "Epigraph.", "Chapter one: Ancestry and Early Youth in Boston.",
         "Chapter two: Beginning Life as a Printer.", "Chapter three: Arrival in Philadelphia."], 0.01,
        ["IX: Plan for Attaining Moral Perfection: table (16 rows)", "I: Ancestry and Early Youth in Boston: 13 notes "
         "(notes)", "Endnotes (notes)"]),
    "devils-dictionary": (["Author\u2019s Preface.", "A.", "B.", "C.", "D.", "E.", "F.", "G.", "H.", "I.", "J.", "K.",
                           "L.", "M.", "N.", "O.", "P.", "Q.", "R.", "S.", "T.", "U.", "V.", "W.", "X.", "Y.", "Z."],
                          0.01, ["Colophon (colophon)"]),
    "north-of-boston": (["Dedication.", "The Pasture.", "Mending Wall.", "The Death of the Hired Man."], 0.005, []),
    "origin-of-species": (["Epigraphs.", "An Historical Sketch of the Progress of Opinion on the Origin of Species, "
                           "Previously to the Publication of the First Edition of This Work.", "Introduction.",
                           "Chapter one: Variation Under Domestication.", "Chapter two: Variation Under Nature."],
                          0.005,
                          ["X: On the Imperfection of the Geological Record: table (4 rows)", "Endnotes (notes)"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_spoken_titles_one_word_share_and_skipped(name):
    titles, share, skipped = EXPECTED[name]
    b = book(name)
    assert spoken_titles(b)[:len(titles)] == titles
    assert one_word_share(b) <= share
    assert set(skipped) <= set(b.skipped)


def test_play_speakers_attached_and_directions_apart():
    b = book("hamlet")
    said = speeches(b)
    assert "Bernardo: Who\u2019s there?" in said
    assert "Francisco at his post. Enter to him Bernardo." in said
    names = {"Hamlet.", "Horatio.", "Bernardo.", "Francisco.", "Marcellus.", "Ophelia.", "Polonius."}
    assert not names & set(said)  # no speaker name alone
    assert not any(s.endswith(" Exit.") or s.endswith(" Exeunt.") for s in said)  # directions are not read in lines
    assert said.count("Exit.") > 10
    assert sum(1 for c in b.chunks if c.pause == Pause.LINE) > 1000  # verse speeches keep their line ends


def test_play_options_drop_names_and_skip_directions():
    b = book("hamlet", speakers="drop", stage_directions="skip")
    said = speeches(b)
    assert "Who\u2019s there?" in said and "Bernardo: Who\u2019s there?" not in said
    assert "Exit." not in said and "Francisco at his post. Enter to him Bernardo." not in said


def test_dictionary_headwords_join_their_definitions():
    said = speeches(book("devils-dictionary"))
    assert any(s.startswith("Caaba: A large stone presented by the archangel Gabriel") for s in said)
    assert "Caaba." not in said and "Caaba" not in said
    assert "One hundred." not in said and "Five hundred." not in said


def test_verse_lines_end_in_short_pauses():
    b = book("north-of-boston")
    wall = next(ch for ch in b.chapters if ch.title == "Mending Wall")
    first = [(c.speech, c.pause) for c in wall.chunks[1:4]]
    assert first == [("Something there is that doesn\u2019t love a wall,", Pause.LINE),
                     ("That sends the frozen-ground-swell under it,", Pause.LINE),
                     ("And spills the upper boulders in the sun;", Pause.LINE)]
    body = [c for c in b.chunks if c.pause != Pause.TITLE]
    assert sum(1 for c in body if c.pause == Pause.LINE) / len(body) > 0.7


def test_verse_lines_option_off_runs_lines_together():
    b = book("north-of-boston", verse_lines=False)
    assert not any(c.pause == Pause.LINE for c in b.chunks)
    assert any(c.speech.startswith("Something there is that doesn\u2019t love a wall, That sends") for c in b.chunks)


def test_tables_skipped_by_default_and_read_by_rows_on_request():
    said = speeches(book("franklin-autobiography"))
    assert "S." not in said and "T." not in said  # the virtue chart is not read cell by cell
    rows = book("franklin-autobiography", tables="rows")
    assert not any("table (16 rows)" in s for s in rows.skipped)
    assert any(s.startswith("Temperance.") for s in speeches(rows))


def test_endnotes_read_at_the_chapter_end_on_request():
    default = book("franklin-autobiography")
    assert not any(s.startswith("Note ") for s in speeches(default))
    b = book("franklin-autobiography", notes="chapter-end")
    ch = b.chapters[2]
    titles = [c.speech for c in ch.chunks if c.pause == Pause.TITLE]
    assert titles[-1] == "Notes."
    notes = [c.speech for c in ch.chunks if c.speech.startswith("Note ")]
    assert len(notes) == 13 and notes[0].startswith("Note three.")
    assert not any(s.endswith("Notes (notes)") for s in b.skipped if s.startswith("I:"))


def test_bare_heading_numbers_setting():
    b = book("franklin-autobiography", heading_numbers="bare")
    assert spoken_titles(b)[2] == "One. Ancestry and Early Youth in Boston."


def test_gutenberg_text_notes_match_the_html_edition(corpus):
    txt = book("news-from-nowhere.txt", notes="chapter-end")
    html = prepare(corpus / "news-from-nowhere.html", PrepareOptions(notes="chapter-end"))
    notes = [[c.speech for c in b.chunks if c.speech.startswith("Note ")] for b in (txt, html)]
    assert len(notes[0]) == len(notes[1]) == 3
    assert notes[0][2] == notes[1][2] == "Note three. Cirencester and Burford he must have meant."
    default = book("news-from-nowhere.txt")
    assert not any("Cirencester and Burford he must" in c.speech for c in default.chunks)
    html_titles = spoken_titles(prepare(corpus / "news-from-nowhere.html"))
    assert [t.replace("\u2014", "--") for t in spoken_titles(default)] == \
        [t.replace("\u2019", "'").replace("\u2014", "--") for t in html_titles]


def test_gutenberg_text_dictionary():
    b = book("devils-dictionary.txt")
    assert spoken_titles(b) == [f"{letter}." for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    assert one_word_share(b) <= 0.015
    assert speeches(b)[2].startswith("Abasement, n. A decent and customary mental attitude")


@pytest.mark.parametrize("name", ["extra/mind-the-paint-girl.txt", "mind-the-paint-girl.html"])
def test_gutenberg_play_in_text_and_html(name):
    b = book(name)
    assert spoken_titles(b)[-4:] == ["The First Act.", "The Second Act.", "The Third Act.", "The Fourth Act."]
    said = speeches(b)
    assert "Cooling: Hullo, Lal!" in said and "Roper: Rats!" in said
    assert sum(s in {"Cooling.", "Roper.", "Farncombe.", "Gladys."} for s in said) <= 1  # one "ROPER. }" brace
    assert all(s.strip() for s in said)
    assert "The Amazons" not in said  # the publisher's list before the play is front matter
    quiet = speeches(book(name, speakers="drop", stage_directions="skip"))
    assert "Hullo, Lal!" in quiet and "Referring to a plan of the tables which he has in his hand." not in quiet


def test_editorial_music_brackets_are_not_read():
    b = book("liberty-minstrel.txt")
    assert any("[Music]" in c.text for c in b.chunks)
    assert not any(c.speech.strip(".") == "Music" or c.speech.endswith(" Music.") for c in b.chunks)
