"""`tomecast words`: a book's names, unknown and rare words as TSV or a lexicon template, filtered by kind and
by the lexicons given; a bad lexicon is one line, exit 2; no torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from worker.cli.main import main

REPO = Path(__file__).resolve().parents[2]
BOOK = """THE VOYAGE

By Ann Writer

CHAPTER I.

Captain Tarbaby sailed from Cheapside with Hermione. Tarbaby said the sea was calm. "Mawnin'," said Hermione to
the skein of wool, insuperable as ever.

Later Tarbaby and Hermione reached Quixotica, where Tarbaby slept.
"""


@pytest.fixture()
def book(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))   # no user lexicon
    path = tmp_path / "voyage.txt"
    path.write_text(BOOK)
    return path


def _rows(out: str) -> dict[str, tuple[int, str]]:
    lines = out.splitlines()
    assert lines[0] == "word\tcount\tkind"
    return {w: (int(n), k) for w, n, k in (line.split("\t") for line in lines[1:])}


def test_lists_names_unknown_and_rare_words(book, capsys):
    assert main(["words", str(book)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert rows["Tarbaby"] == (4, "name") and rows["Hermione"] == (3, "name") and rows["Quixotica"] == (1, "name")
    assert rows["Mawnin'"] == (1, "unknown")
    assert rows["skein"] == (1, "rare") and rows["insuperable"] == (1, "rare")
    assert "sailed" not in rows and "calm" not in rows
    kinds = [k for _, k in rows.values()]
    assert kinds == sorted(kinds, key=["name", "unknown", "rare"].index)


def test_kind_filter_and_lexicon_leave_words_out(book, tmp_path, capsys):
    lexicon = tmp_path / "voyage.tsv"
    lexicon.write_text("# names\nHermione\ther-MY-oh-nee\n")
    assert main(["words", str(book), "--kind", "name", "--kind", "unknown", "--lexicon", str(lexicon)]) == 0
    rows = _rows(capsys.readouterr().out)
    assert "Hermione" not in rows and "Tarbaby" in rows and "Mawnin'" in rows
    assert {k for _, k in rows.values()} == {"name", "unknown"}
    assert not any("MY" in w for w in rows)   # the respelling is not listed either


def test_template_is_a_lexicon_file_to_fill_in(book, tmp_path, capsys):
    assert main(["words", str(book), "--kind", "rare", "--template"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Pronunciation lexicon")
    assert "# skein\tskein\n" in out and "# insuperable\tinsuperable\n" in out and "Tarbaby" not in out
    filled = tmp_path / "filled.tsv"
    filled.write_text(out.replace("# skein\tskein", "skein\tskayn"))
    assert main(["words", str(book), "--kind", "rare", "--lexicon", str(filled)]) == 0
    assert "skein" not in _rows(capsys.readouterr().out)


def test_a_bad_lexicon_is_one_line_and_exit_2(book, tmp_path, capsys):
    bad = tmp_path / "bad.tsv"
    bad.write_text("Hermione her-MY-oh-nee\n")   # a space, not a tab
    assert main(["words", str(book), "--lexicon", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.tsv:1" in err and "TAB" in err
    assert main(["words", str(book), "--lexicon", str(tmp_path / "missing.tsv")]) == 2
    assert "missing.tsv" in capsys.readouterr().err


def test_the_users_lexicon_is_read_first(book, tmp_path, capsys):
    user = tmp_path / "home" / ".config" / "tomecast" / "lexicon.tsv"
    user.parent.mkdir(parents=True)
    user.write_text("Tarbaby\tTar-baby\n")
    assert main(["words", str(book), "--kind", "name"]) == 0
    assert "Tarbaby" not in _rows(capsys.readouterr().out)


def test_never_imports_torch(book):
    code = ("import sys; from worker.cli.main import main; rc = main(['words', sys.argv[1], '--kind', 'rare']); "
            "assert 'torch' not in sys.modules, 'torch imported'; sys.exit(rc)")
    r = subprocess.run([sys.executable, "-c", code, str(book)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "skein\t1\trare" in r.stdout
