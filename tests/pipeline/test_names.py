"""File names from book metadata: always one safe basename, and output paths refused outside their folder."""

from __future__ import annotations

import pytest

from pipeline.errors import StoreError
from pipeline.names import book_file_name, chapter_file_name, inside, safe_name

HOSTILE = ["..", ".", "../x", "../../etc/passwd", "/etc/passwd", ".hidden", "...", "", "   ", "\x00\x01", "a/b\\c",
           "-rf", "x" * 5000, "\u00e9" * 300, "\u5927\u5b57" * 200, "C:\\Windows\\win.ini", "con:", "a\nb\tc",
           "\u202e\u2066evil", ". . .", "..\u00a0..", "~/.ssh/id_rsa"]


def _check(name: str, limit_bytes: int = 255) -> None:
    assert name and name not in (".", "..")
    assert not name.startswith((".", "-", " "))
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not any(ord(c) < 32 for c in name)
    assert len(name.encode("utf-8")) <= limit_bytes


@pytest.mark.parametrize("title", HOSTILE)
def test_every_title_gives_a_safe_basename(title, tmp_path):
    for name in (safe_name(title), book_file_name(title), chapter_file_name(3, title, "mp3")):
        _check(name)
        path = inside(tmp_path, name)   # never refused: a sanitized name is always inside
        assert path.parent == tmp_path
    assert book_file_name(title).endswith(".m4b") and chapter_file_name(3, title, "mp3").startswith("04 ")


def test_names_keep_what_is_readable():
    assert safe_name("Chapter I. Her Twelfth Birthday") == "Chapter I. Her Twelfth Birthday"
    assert safe_name("Les Misérables — Tome 1") == "Les Misérables — Tome 1"
    assert safe_name("\u6238\u7530 / \u65e5\u8a18") == "\u6238\u7530 \u65e5\u8a18"
    assert safe_name("  A   B  ") == "A B"
    assert safe_name("..") == "untitled" and book_file_name("") == "audiobook.m4b"
    assert safe_name("../x") == "x" and safe_name("/etc/passwd") == "etc passwd" and safe_name(".hidden") == "hidden"
    assert len(safe_name("x" * 5000)) == 60 and len(book_file_name("x" * 5000)) == 84
    # a long title in a wide script stays under the byte budget of a file name
    assert len(safe_name("\u5927" * 300, limit=300).encode()) <= 200


@pytest.mark.parametrize("name", ["..", "../x", "/etc/passwd", "a/../../b", ".", ""])
def test_inside_refuses_paths_that_leave_the_folder(tmp_path, name):
    with pytest.raises(StoreError, match="outside"):
        inside(tmp_path / "out", name)


def test_inside_refuses_a_symlink_out(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "link").symlink_to(tmp_path)
    with pytest.raises(StoreError, match="outside"):
        inside(tmp_path / "out", "link/book.m4b")
    assert inside(tmp_path / "out", "book.m4b") == tmp_path / "out" / "book.m4b"
