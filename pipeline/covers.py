"""Cover art for the M4B: whatever image a book came with, as a JPEG or PNG the MP4 muxer can carry.

An M4B holds its cover as an attached picture of codec mjpeg or png; anything else (the SVG covers of every
Standard Ebooks EPUB, GIF, WebP, BMP, TIFF) makes ffmpeg refuse the whole file at the very end of a book. So
JPEG and PNG pass as they are; SVG is rendered by cairosvg (pinned in the project; it needs the system cairo
library) and then, like every other format, turned into a JPEG by ffmpeg, at most ``MAX_SIDE`` pixels a side.
A cover that cannot be converted is left out with one warning: the book matters more than its picture.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

__all__ = ["MAX_SIDE", "cover_kind", "prepare_cover"]

log = logging.getLogger(__name__)

MAX_SIDE = 1600


def cover_kind(data: bytes) -> str:
    """'jpeg', 'png', 'svg' or 'other', from the bytes (a media type in a book is only a claim)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg", b"<!--")) and b"<svg" in data[:65536].lower():
        return "svg"
    return "other"


def prepare_cover(path: Path | None, folder: Path) -> Path | None:
    """A JPEG or PNG version of the cover at ``path`` (written into ``folder`` if converted), or None."""
    if path is None:
        return None
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.warning("cover %s left out: %s", path.name, exc.strerror or exc)
        return None
    kind = cover_kind(data)
    if kind in ("jpeg", "png"):
        return path
    src = path
    if kind == "svg":
        src = Path(folder) / "cover-svg.png"
        reason = _render_svg(data, src)
        if reason:
            log.warning("cover %s (SVG) left out: %s", path.name, reason)
            return None
    out = Path(folder) / "cover.jpg"
    scale = f"scale=w='min(iw,{MAX_SIDE})':h='min(ih,{MAX_SIDE})':force_original_aspect_ratio=decrease"
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-i", str(src), "-frames:v", "1",
           "-vf", scale, "-pix_fmt", "yuvj420p", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", str(out)]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        log.warning("cover %s left out: ffmpeg is not installed", path.name)
        return None
    if r.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = (r.stderr.strip().splitlines() or ["no output"])[-1]
        log.warning("cover %s left out: ffmpeg cannot read it as an image (%s)", path.name, tail)
        return None
    return out


def _render_svg(data: bytes, out: Path) -> str | None:
    """Render an SVG to PNG; the reason it could not be, or None."""
    try:
        import cairosvg
    except (ImportError, OSError) as exc:   # OSError: the package is there but the cairo library is not
        return f"cairosvg is not usable here ({type(exc).__name__}: {str(exc)[:80]})"
    try:
        # unsafe=False (cairosvg >= 2.7): only data: URLs are fetched, no file or network, no XML entities
        cairosvg.svg2png(bytestring=data, write_to=str(out), output_height=MAX_SIDE, unsafe=False)
    except Exception as exc:  # noqa: BLE001 - any malformed SVG: leave the cover out, keep the book
        return f"{type(exc).__name__}: {str(exc)[:80]}"
    return None

