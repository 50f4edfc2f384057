"""Project Gutenberg boilerplate: the header (with its Title/Author/Language fields), footer and licence."""

from __future__ import annotations

import re

__all__ = ["body_bounds", "header_metadata", "language_code"]

_START = re.compile(r"^[ \t]*\*{3}[ \t]*START OF[ \t]+(?:THE[ \t]+|THIS[ \t]+)?PROJECT GUTENBERG[^\n]*$", re.I | re.M)
_OLD_START = re.compile(r"^[ \t]*\*END\*[ \t]*THE SMALL PRINT[^\n]*$", re.I | re.M)
_END = re.compile(
    r"^[ \t]*(?:\*{3}[ \t]*END OF[ \t]+(?:THE[ \t]+|THIS[ \t]+)?PROJECT GUTENBERG"
    r"|End of (?:the )?Project Gutenberg|\*{3}[ \t]*START: FULL LICENSE)[^\n]*$",
    re.I | re.M,
)
_FIELD = re.compile(r"^(Title|Author|Language)[ \t]*:[ \t]*(.+)$", re.M)

_LANGUAGES = {
    "english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it", "dutch": "nl",
    "portuguese": "pt", "finnish": "fi", "swedish": "sv", "danish": "da", "norwegian": "no", "polish": "pl",
    "russian": "ru", "latin": "la", "greek": "el", "hungarian": "hu", "chinese": "zh", "japanese": "ja",
}


def language_code(name: str) -> str:
    """'English' -> 'en'; a code is returned as given (lower case); unknown names give ''."""
    name = name.strip()
    if re.fullmatch(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*", name) and name.lower() not in _LANGUAGES:
        return name.replace("_", "-")
    return _LANGUAGES.get(name.lower(), "")


def body_bounds(text: str) -> tuple[int, int, bool]:
    """(start, end, found): the book between the Gutenberg START line and the first END/licence line.

    Without a START marker the whole text is the body (``found`` is False); an END marker is still honoured.
    """
    m = _START.search(text) or _OLD_START.search(text)
    start = m.end() if m else 0
    e = _END.search(text, start)
    end = e.start() if e else len(text)
    return start, end, m is not None


def header_metadata(header: str) -> dict[str, str]:
    """Title, Author and Language fields of a Gutenberg header (first line of each field)."""
    out: dict[str, str] = {}
    for m in _FIELD.finditer(header):
        key = m.group(1).lower()
        if key not in out:
            out[key] = m.group(2).strip()
    if "language" in out:
        out["language"] = language_code(out["language"])
    return out
