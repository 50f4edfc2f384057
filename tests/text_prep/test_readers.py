"""Manuscript checks and decoding: bad paths, empty/binary files, extensions, BOMs, legacy encodings, CRLF."""

import codecs

import pytest

from text_prep import BookFormatError, InputFileError, prepare
from text_prep.readers import read_document
from text_prep.readers.files import decode_text

PROSE = "Chapter 1\n\nThe caf\u00e9 was \u201cquiet\u201d that night. Nobody came.\n"


@pytest.mark.parametrize("name,content,message", [
    ("missing.txt", None, "no such file"),
    ("empty.txt", b"", "empty file"),
    ("blank.txt", b"  \n\n\t \r\n", "only whitespace"),
    ("blank.md", b"\n\n   \n", "only whitespace"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    ("book.pdf", b"%PDF-1.4 something", "unknown manuscript extension"),
    ("noext", b"hello", "unknown manuscript extension"),
])
def test_bad_files_give_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as e:
        prepare(path)
    assert message in str(e.value) and "\n" not in str(e.value)
    assert name in str(e.value)


def test_directory_is_refused(tmp_path):
    with pytest.raises(InputFileError, match="directory"):
        prepare(tmp_path)


def test_markup_without_text_is_refused(tmp_path):
    p = tmp_path / "empty.html"
    p.write_text("<html><body><p>  </p><img src='x.png'/></body></html>")
    with pytest.raises(BookFormatError, match="no readable text"):
        prepare(p)


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b""), ("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE),
    ("utf-16-be", codecs.BOM_UTF16_BE), ("cp1252", b""),
])
def test_encodings_decode_to_the_same_text(tmp_path, encoding, bom):
    p = tmp_path / "book.txt"
    p.write_bytes(bom + PROSE.encode(encoding))
    doc = read_document(p)
    assert doc.sections[0].title == "Chapter 1"
    assert "The caf\u00e9 was \u201cquiet\u201d that night." in doc.sections[0].text


def test_latin1_fallback_for_bytes_cp1252_does_not_define():
    # 0x81 is undefined in cp1252, so the decoder falls back to latin-1
    assert decode_text(b"caf\xe9 \x81", "x") == "caf\u00e9 \u0081"


def test_crlf_and_cr_become_lf(tmp_path):
    p = tmp_path / "book.txt"
    p.write_bytes(PROSE.replace("\n", "\r\n").encode())
    book = prepare(p)
    assert "\r" not in book.chapters[0].text
    assert all("\r" not in c.text for c in book.chunks)
    assert decode_text(b"a\rb\r\nc", "x") == "a\nb\nc"


def test_declared_utf16_without_bom_is_ignored():
    data = '<html><head><meta charset="utf-16"></head><body><p>Caf\u00e9</p></body></html>'.encode()
    assert "Caf\u00e9" in decode_text(data, "x.html", sniff_declared=True)


def test_declared_legacy_charset_is_used():
    data = '<html><head><meta charset="iso-8859-7"></head><body><p>\u03b1\u03b2</p></body></html>'.encode("iso-8859-7")
    assert "\u03b1\u03b2" in decode_text(data, "x.html", sniff_declared=True)


@pytest.mark.parametrize("body", [
    "CHAPTER I\n\nThe lamp was lit at dusk. It burned all night.\n\nCHAPTER II\n\nMorning came.\n",
    "The lamp was lit at dusk. It burned all night.\n\nMorning came. The keeper slept.\n",
])
def test_title_and_by_line_on_consecutive_lines_are_front_matter(tmp_path, body):
    p = tmp_path / "lantern.txt"
    p.write_text(f"The Lantern Keeper\nby A. N. Example\n\n{body}", encoding="utf-8")
    book = prepare(p)
    assert (book.title, book.author) == ("The Lantern Keeper", "A. N. Example")
    said = [c.speech for c in book.chunks]
    assert said[0] == "The Lantern Keeper, by A. N. Example."
    assert sum("Lantern Keeper" in s for s in said) == 1  # spoken once
    assert book.skipped == ("lantern.txt (titlepage)",)


def test_a_nul_anywhere_in_a_text_file_is_refused(tmp_path):
    """Not only in the first 64 KiB: the same rule for the whole file, with or without a BOM."""
    body = ("Chapter 1\n\n" + "The night was dark and the wind was high.\n" * 4000).encode()
    assert len(body) > 65536
    for name, data in [("late.txt", body + b"tail \x00 end\n"), ("late.md", body + b"\x00"),
                       ("late.html", b"<p>" + body + b"\x00</p>"),
                       ("wide.txt", codecs.BOM_UTF16_LE + (body.decode() + "\x00").encode("utf-16-le"))]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputFileError, match="binary") as e:
            prepare(tmp_path / name)
        assert "\n" not in str(e.value) and name in str(e.value)
    (tmp_path / "clean.txt").write_bytes(body)
    assert prepare(tmp_path / "clean.txt").chapters
