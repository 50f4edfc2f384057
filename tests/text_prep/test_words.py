"""book_words: names, non-dictionary words and rare words of a book's speech text, with counts."""

from text_prep import prepare
from text_prep.normalize.dictionary import is_word
from text_prep.words import book_words

BOOK = """THE FERRY

By Ann Example


CHAPTER I.

Tarbaby ran to the ferry with Mr. Quillon. "I'm goin' home," said Tarbaby. The ferryman was Quillon's
brother, and the river was wide. Tarbaby had never seen the skein of geese. The geese flew over the
ferry, and the ferry went on. "Don't go," said Quillon. They went to Cheapside.

CHAPTER II.

Tarbaby slept. The insuperable river flowed on. It was mawnin' when Tarbaby woke.
"""


def test_names_unknown_and_rare_words_with_counts(tmp_path):
    path = tmp_path / "ferry.txt"
    path.write_text(BOOK)
    words = book_words(prepare(path))
    found = {w: (n, kind) for w, n, kind in words}
    assert found["Tarbaby"] == (5, "name")
    assert found["Quillon"] == (3, "name")  # "Quillon's" counts as Quillon
    assert found["Cheapside"][1] == "name"
    assert found["goin'"] == (1, "unknown") and found["mawnin'"] == (1, "unknown")
    assert found["insuperable"] == (1, "rare") and found["skein"] == (1, "rare")
    assert not {"ferry", "river", "geese", "Don't", "I'm", "Mister", "The"} & set(found)
    kinds = [kind for _, _, kind in words]
    assert kinds == sorted(kinds, key=["name", "unknown", "rare"].index)  # grouped by kind, names first
    assert book_words(path) == words  # a path is prepared first


def test_dictionary_knows_inflections_and_british_spelling():
    assert all(is_word(w) for w in ("horses", "walked", "hurrying", "happily", "colour", "to-day", "stopped",
                                    "favoured", "recognised", "neighbourhood", "travelled", "centre", "o\u2019clock"))
    assert not any(is_word(w) for w in ("afterlecture", "xyzzy", "mawnin"))


def test_tsv_and_lexicon_template_round_trip():
    from text_prep.lexicon import Lexicon
    from text_prep.words import lexicon_template, words_tsv

    rows = [("Tarbaby", 5, "name"), ("mawnin'", 1, "unknown")]
    assert words_tsv(rows) == "word\tcount\tkind\nTarbaby\t5\tname\nmawnin'\t1\tunknown\n"
    template = lexicon_template(rows)
    assert not Lexicon.parse(template).entries  # all commented out: changes nothing until filled in
    filled = template.replace("# Tarbaby\tTarbaby", "Tarbaby\tTAR-baby")
    assert Lexicon.parse(filled).apply("Tarbaby ran.") == "TAR-baby ran."
