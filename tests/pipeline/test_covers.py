"""Covers: every corpus EPUB's cover and every common image format end as a valid M4B picture, or are left out."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pipeline.covers import cover_kind, prepare_cover
from pipeline.files import write_wav
from pipeline.stitch import Stitching, probe, stitch_master, write_m4b

RATE = 24000
BOOKS = Path(__file__).resolve().parents[3] / "books"   # /work/books beside the checkout, when present


def _epubs() -> list[Path]:
    shared = Path(__file__).resolve().parents[3] / "shared" / "corpus"
    return sorted(shared.glob("*.epub")) + sorted(BOOKS.glob("*.epub"))


@pytest.fixture(scope="module")
def master(tmp_path_factory):
    """A 2-second chapter master (a voiced, syllabic tone), enough to carry a cover."""
    folder = tmp_path_factory.mktemp("cover-audio")
    t = np.arange(2 * RATE) / RATE
    x = 0.2 * np.sin(2 * np.pi * 160 * t) * np.clip(np.sin(2 * np.pi * 4 * t), 0, None)
    wav = write_wav(folder / "c.wav", x.astype(np.float32), RATE)
    return stitch_master([wav], [350], Stitching(), folder / "m.wav")


def _can_render_svg() -> bool:
    try:
        import cairosvg  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def _picture(m4b: Path) -> dict | None:
    pics = [s for s in probe(m4b)["streams"] if s.get("disposition", {}).get("attached_pic") == 1]
    return pics[0] if pics else None


def _m4b_with(cover: Path | None, master, out: Path) -> Path:
    return write_m4b([master], ["One"], out, title="T", author="A", language="en", cover=cover)


@pytest.mark.parametrize("epub", _epubs() or [None], ids=lambda p: p.name if p else "none")
def test_every_corpus_epub_cover_makes_a_valid_m4b(epub, master, tmp_path):
    if epub is None:
        pytest.skip("no corpus EPUB found (../shared/corpus, ../books)")
    from text_prep.readers.epub import read_epub

    cover = read_epub(epub).cover
    if cover is None:
        pytest.skip(f"{epub.name} has no cover")
    img = tmp_path / "cover.img"     # as prepare_job stores a cover it has no suffix for
    img.write_bytes(cover.data)
    out = _m4b_with(img, master, tmp_path / "book.m4b")    # never fails for its cover
    pic = _picture(out)
    if cover_kind(cover.data) == "svg" and not _can_render_svg():
        assert pic is None      # no renderer here: left out with a warning, the book still made
        return
    assert pic is not None and pic["codec_name"] in ("mjpeg", "png"), (cover.media_type, pic)
    assert max(pic["width"], pic["height"]) <= 1600 and min(pic["width"], pic["height"]) >= 100
    # the picture decodes
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-map", "0:v", "-frames:v", "1", "-f", "null", "-"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip()


@pytest.mark.parametrize("fmt", ["gif", "webp", "bmp", "tiff", "png", "jpg"])
def test_image_formats_become_jpeg_or_png(fmt, master, tmp_path):
    src = tmp_path / f"cover.{fmt}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=red:s=64x48", "-frames:v", "1",
                    str(src)], check=True)
    out = _m4b_with(src, master, tmp_path / "book.m4b")
    pic = _picture(out)
    assert pic is not None and pic["codec_name"] == {"png": "png", "jpg": "mjpeg"}.get(fmt, "mjpeg")
    assert (pic["width"], pic["height"]) == (64, 48)


def test_svg_cover_is_rendered_and_external_references_are_not_fetched(master, tmp_path):
    if not _can_render_svg():
        pytest.skip("cairosvg (pinned 2.7.1) or the cairo library is not installed")
    secret = tmp_path / "secret.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "color=blue:s=8x8", "-frames:v", "1",
                    str(secret)], check=True)
    svg = tmp_path / "cover.img"
    svg.write_text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" '
                   'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 200 300">'
                   '<rect width="200" height="300" fill="#ff0000"/>'
                   f'<image href="file://{secret}" x="0" y="0" width="200" height="300"/></svg>')
    assert cover_kind(svg.read_bytes()) == "svg"
    jpg = prepare_cover(svg, tmp_path)
    assert jpg is not None and cover_kind(jpg.read_bytes()) == "jpeg"
    # the picture is the red rectangle: the external (blue) file was not read
    r = subprocess.run(["ffmpeg", "-v", "error", "-i", str(jpg), "-vf", "scale=1:1", "-f", "rawvideo", "-pix_fmt",
                        "rgb24", "-"], capture_output=True, check=True)
    red, green, blue = r.stdout[:3]
    assert red > 200 and blue < 60
    pic = _picture(_m4b_with(svg, master, tmp_path / "book.m4b"))
    assert pic is not None and pic["height"] == 1600 and pic["width"] in (1066, 1067)


def test_unreadable_cover_is_left_out_with_one_warning(master, tmp_path, caplog):
    junk = tmp_path / "cover.img"
    junk.write_bytes(b"GIF89a but not really an image")
    with caplog.at_level(logging.WARNING, logger="pipeline.covers"):
        out = _m4b_with(junk, master, tmp_path / "book.m4b")
    assert _picture(out) is None
    assert [r.levelname for r in caplog.records] == ["WARNING"] and "left out" in caplog.records[0].getMessage()
    broken_svg = tmp_path / "broken.svg"
    broken_svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'><rect")
    assert prepare_cover(broken_svg, tmp_path) is None
    assert prepare_cover(None, tmp_path) is None
