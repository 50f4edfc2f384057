"""Checks a manuscript path and turns its bytes into text: BOMs, declared charsets, UTF-8, cp1252/latin-1."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from text_prep.errors import InputFileError

__all__ = ["check_path", "decode_text", "looks_binary", "read_bytes"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def check_path(path: str | Path) -> Path:
    """The path as a ``Path`` if it names a readable, non-empty regular file, else ``InputFileError``."""
    p = Path(path)
    if not p.exists():
        raise InputFileError(f"no such file: {str(path)!r}")
    if p.is_dir():
        raise InputFileError(f"is a directory, not a manuscript file: {str(path)!r}")
    if not p.is_file():
        raise InputFileError(f"not a regular file: {str(path)!r}")
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise InputFileError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    if size == 0:
        raise InputFileError(f"empty file: {str(path)!r}")
    return p


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {str(path)!r}: {exc.strerror}") from None


def _bom(data: bytes) -> tuple[str, int] | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return None


def looks_binary(data: bytes) -> bool:
    """True for bytes that are not text in any encoding we read (without a UTF-16/32 BOM): a NUL byte anywhere
    in the file, or many control bytes in its first 64 KiB."""
    if _bom(data) is not None:
        return False
    if b"\x00" in data:   # the whole file, not only its head: a NUL is never text in UTF-8 or a 1-byte codec
        return True
    head = data[:65536]
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13, 27))
    return controls > max(8, len(head) // 100)


def decode_text(data: bytes, name: str, sniff_declared: bool = False) -> str:
    """Text of ``data``: BOM first, then (for markup) a declared charset, then UTF-8, then cp1252, then latin-1.

    Newlines are normalised to ``\\n``. Raises ``InputFileError`` for binary data (a NUL anywhere in the file).
    """
    bom = _bom(data)
    if bom is not None:
        codec, skip = bom
        try:
            text = data[skip:].decode(codec)
        except UnicodeDecodeError:
            raise InputFileError(f"invalid {codec} text after its byte-order mark: {name!r}") from None
        if "\x00" in text:   # the same rule as without a BOM: a NUL character anywhere is binary data
            raise InputFileError(f"binary file, not text (a NUL character at offset {text.index(chr(0))}): {name!r}")
    else:
        if looks_binary(data):
            raise InputFileError(f"binary file, not text: {name!r}")
        codecs_to_try = []
        if sniff_declared:
            m = _DECLARED.search(data[:4096])
            if m:
                declared = m.group(1).decode("ascii", "replace").lower()
                try:
                    # A declaration readable as ASCII rules out UTF-16/32 (those come with a BOM, handled above).
                    if not codecs.lookup(declared).name.startswith(("utf-16", "utf-32")):
                        codecs_to_try.append(declared)
                except LookupError:
                    pass
        codecs_to_try += ["utf-8", "cp1252"]
        text = None
        for codec in codecs_to_try:
            try:
                text = data.decode(codec)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            text = data.decode("latin-1")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text
