"""`tomecast prepare` in a subprocess: summary, --json schema and options, one-line errors, huge inputs."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"

BOOK = """THE LIGHTHOUSE

By Mara Keeper

CHAPTER I.

Dr. Hale lit the lamp at 9:30 p.m. It burned all night. The ships saw it from 3 miles away.

"Is it lit?" asked the boy. "It is," said Dr. Hale.

CHAPTER II.

The storm came in 1891. Nobody slept.
"""


def tomecast(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "worker.cli", "prepare", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture()
def book(tmp_path):
    p = tmp_path / "lighthouse.txt"
    p.write_text(BOOK)
    return p


def test_human_summary(book):
    r = tomecast(book)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "The Lighthouse by Mara Keeper [en]" in out
    assert "CHAPTER I." in out and "CHAPTER II." in out
    assert "2 chapters, " in out and " chunks, " in out and " words, about " in out and " min" in out
    assert "skipped: lighthouse.txt (titlepage)" in out


def test_json_plan(book):
    r = tomecast(book, "--json")
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    assert (plan["title"], plan["author"], plan["language"]) == ("The Lighthouse", "Mara Keeper", "en")
    assert plan["skipped"] == ["lighthouse.txt (titlepage)"]
    assert [c["title"] for c in plan["chapters"]] == ["CHAPTER I.", "CHAPTER II."]
    chunks = plan["chapters"][0]["chunks"]
    assert {"text", "speech", "pause", "key"} <= set(chunks[0])
    assert chunks[0]["pause"] == "title" and chunks[0]["speech"] == "The Lighthouse, by Mara Keeper."
    body = chunks[2]
    assert body["text"].startswith("Dr. Hale lit the lamp at 9:30 p.m.")
    assert body["speech"].startswith("Doctor Hale lit the lamp at nine thirty P M.")
    assert chunks[-1]["pause"] == "chapter"
    assert tomecast(book, "--json").stdout == r.stdout  # byte for byte


def test_options(book):
    plan = json.loads(tomecast(book, "--json", "--no-titles", "--max-chars", "60", "--include-front-matter").stdout)
    chunks = [c for ch in plan["chapters"] for c in ch["chunks"]]
    assert all(c["pause"] != "title" for c in chunks)
    assert all(len(c["text"]) <= 60 for c in chunks)
    assert plan["skipped"] == [] and len(plan["chapters"]) == 3
    plan = json.loads(tomecast(book, "--json", "--no-opening", "--language", "en-GB").stdout)
    assert plan["language"] == "en-GB"
    assert plan["chapters"][0]["chunks"][0]["text"] == "CHAPTER I."


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


CONTAINER = ('<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
             '<rootfile full-path="content.opf"/></rootfiles></container>')
OPF = ('<package xmlns="http://www.idpf.org/2007/opf"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
       '<dc:title>T</dc:title></metadata><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>'
       '</manifest><spine><itemref idref="c"/></spine></package>')


def _bad_input(tmp_path, case):
    p = tmp_path / case
    if case == "missing.txt":
        return p
    if case == "folder":
        p.mkdir()
    elif case == "empty.txt":
        p.write_bytes(b"")
    elif case == "blank.txt":
        p.write_bytes(b" \n\t\n  ")
    elif case == "binary.txt":
        p.write_bytes(bytes(range(256)) * 64)
    elif case == "book.docx":
        p.write_bytes(b"PK\x03\x04whatever")
    elif case == "corrupt.epub":
        p.write_bytes(b"this is not an epub")
    elif case == "drm.epub":
        enc = ('<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
               'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod '
               'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/></enc:EncryptedData></encryption>')
        _zip(p, {"META-INF/container.xml": CONTAINER, "META-INF/encryption.xml": enc, "content.opf": OPF,
                 "c.xhtml": "binary-encrypted-bytes"})
    elif case == "notext.epub":
        _zip(p, {"META-INF/container.xml": CONTAINER, "content.opf": OPF,
                 "c.xhtml": '<html><body><img src="a.png"/></body></html>'})
    return p


@pytest.mark.parametrize("case,message", [
    ("missing.txt", "no such file"),
    ("folder", "is a directory"),
    ("empty.txt", "empty file"),
    ("blank.txt", "only whitespace"),
    ("binary.txt", "binary file"),
    ("book.docx", "unknown manuscript extension"),
    ("corrupt.epub", "corrupt EPUB"),
    ("drm.epub", "DRM-protected EPUB"),
    ("notext.epub", "no readable text"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, case, message):
    r = tomecast(_bad_input(tmp_path, case))
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tomecast: error: ") and message in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_bad_max_chars(book):
    r = tomecast(book, "--max-chars", "5")
    assert r.returncode == 2 and "max_chars must be between" in r.stderr and "Traceback" not in r.stderr


def _check_plan(plan, max_chars=300):
    from text_prep import Book

    book = Book.from_json(plan)
    for ch in book.chapters:
        assert ch.lossless_violation() is None
        assert all(len(c.text) <= max_chars for c in ch.chunks if c.span[0] != c.span[1])
    return book


def test_hundred_thousand_characters_without_punctuation(tmp_path):
    words = ("river", "stone", "morning", "light", "quiet", "the", "and", "over")
    text = " ".join(words[(i * 7) % 8] for i in range(30_000))[:100_000]
    p = tmp_path / "wall.txt"
    p.write_text(text)
    r = tomecast(p, "--json")
    assert r.returncode == 0, r.stderr
    book = _check_plan(r.stdout)
    body = [c for c in book.chunks if c.span[0] != c.span[1]]
    assert len(body) >= 100_000 // 300
    assert "".join(c.text for c in body).replace(" ", "") == text.replace(" ", "")


@pytest.mark.slow
def test_fifty_megabyte_text_file(tmp_path):
    src = CORPUS / "little-colonels-hero.txt"
    if not src.is_file():
        pytest.skip(f"corpus book not found at {src}")
    raw = src.read_bytes().replace(b"\r\n", b"\n")
    body = raw[raw.index(b"CHAPTER I.\n\nHER TWELFTH"):raw.index(b"End of the Project Gutenberg")]
    copies = 50_000_000 // len(body) + 1
    p = tmp_path / "huge.txt"
    with p.open("wb") as f:
        for _ in range(copies):
            f.write(body)
    assert p.stat().st_size >= 50_000_000
    r = tomecast(p, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"{16 * copies} chapters, " in r.stdout and "Traceback" not in r.stderr
