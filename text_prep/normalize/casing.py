"""Capitals: words in capitals are shouted tokens for the model, so they are title-cased ("THE GENERAL
STRIKE" -> "The General Strike", "your loving JOYCE." -> "Joyce"); real acronyms ("BBC", "USSR", "HTML") and
roman numerals ("II", "XIV") are kept."""

from __future__ import annotations

import re

from text_prep.normalize.dictionary import is_word
from text_prep.normalize.roman import is_roman

__all__ = ["mostly_caps", "title_case_caps", "title_case_shouted"]

_CAPS_RUN = re.compile(r"\b[A-Z][A-Z'’]+(?:[\s,:;—-]+[A-Z][A-Z'’]+)+\b")
_CAPS_WORD = re.compile(r"(?<![\w.&/-])([A-Z][A-Z'’]*[A-Z])(?![\w&/]|\.[A-Z])")
_SMALL_WORDS = {"A", "An", "And", "As", "At", "But", "By", "For", "From", "In", "Into", "Nor", "Of", "On", "Or",
                "The", "To", "With"}
_TWO_LETTER_WORDS = frozenset("AM AN AS AT BE BY DO GO HE IF IN IS IT ME MY NO OF OH ON OR OX SO TO UP WE".split())
_VOWELS = frozenset("AEIOUY")
_CONSONANT_RUN = re.compile(r"[B-DF-HJ-NP-TV-XZ]{4,}")


_ROMAN_WORDS = frozenset({"MIX", "MI", "DI", "LI", "CID"})  # valid numerals that are (also) words


def _is_acronym(w: str) -> bool:
    """True when a word in capitals is spelled out letter by letter (or is a numeral) rather than read as a
    word: "BBC", "USSR", "HTML", "XIV"; not "JOYCE", "NASA", "HAMPTON"."""
    letters = w.replace("'", "").replace("’", "")
    if is_roman(letters):
        return letters not in _ROMAN_WORDS
    if len(letters) == 2:
        return letters not in _TWO_LETTER_WORDS
    if is_word(letters):
        return False
    vowels = sum(c in _VOWELS for c in letters) / len(letters)
    return len(letters) <= 3 or vowels < (0.3 if len(letters) <= 5 else 0.2) or bool(_CONSONANT_RUN.search(letters))


def title_case_caps(s: str) -> str:
    """ALL-CAPS words in title case (a narrator should not spell them out); small words in lower case."""
    def word(m: re.Match) -> str:
        if len(m.group(0)) > 1 and is_roman(m.group(0)) and m.group(0) not in _ROMAN_WORDS:
            return m.group(0)
        w = m.group(0).capitalize()
        return w.lower() if w in _SMALL_WORDS and m.start() > 0 and s[m.start() - 2:m.start()] not in (". ", ": ")\
            else w

    return re.sub(r"\b[A-Z][A-Z'’]*\b", word, s)


def title_case_shouted(s: str) -> str:
    """Runs of capitalised words and single shouted words in title case; acronyms kept."""
    s = _CAPS_RUN.sub(lambda m: title_case_caps(m.group(0)), s)
    return _CAPS_WORD.sub(lambda m: m.group(0) if _is_acronym(m.group(0)) else m.group(0).capitalize(), s)


def mostly_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.6
