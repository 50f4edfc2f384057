"""What a narrator says for a heading.

A heading is read as its numbering and its title: ``II. THE MEETING IN THE WOODS`` and Standard Ebooks'
``I: Ancestry and Early Youth in Boston`` become "Chapter two: The Meeting in the Woods." and "Chapter one:
Ancestry and Early Youth in Boston." (``HeadingNumbers.BARE``: "Two: The Meeting in the Woods."); a written
label is kept ("ACT III" -> "Act three."). Only chapter-level headings get the added "Chapter"; a numeral
inside a chapter is read bare ("IV." -> "Four."). In a book whose sections are single letters (a dictionary's
A, B, C ... X), a letter heading is read as the letter, never as a roman number. Capitals become title case
word by word, keeping roman numerals, initials and words with digits as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from num2words import num2words

from text_prep.normalize import is_speakable, roman_to_int, speech_text
from text_prep.types import HeadingNumbers

__all__ = ["heading_speech", "letter_sections", "title_case"]

_LABELS = ("chapter", "book", "part", "volume", "vol.", "act", "scene", "stave", "canto", "section", "letter",
           "fytte", "lesson", "lecture", "chap.", "ch.")
_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|"
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|last|final"
)
_WORDS_NUMBER = rf"(?:the\s+)?(?:{_NUMBER_WORDS})(?:[\s-](?:{_NUMBER_WORDS}))*"
_SEP = r"(?:\s*[.:)—–-]+\s*|\s+(?=\S))"
# LABEL NUMBER [sep TITLE]: "CHAPTER IV.", "Chapter 12: Title", "BOOK THE FIRST", "Act I"
_LABELLED = re.compile(
    rf"^(?P<label>{'|'.join(re.escape(w) for w in _LABELS)})\s+(?P<num>[IVXLCDM]+|\d{{1,4}}|{_WORDS_NUMBER})\b"
    rf"(?:{_SEP}(?P<rest>.*\S))?\s*[.:]?\s*$",
    re.I | re.S,
)
# NUMBER sep TITLE or NUMBER alone: "II. THE MEETING", "I: Ancestry", "XIII", "12.", "II THE MEETING"
_NUMBERED = re.compile(r"^(?P<num>[IVXLC]+|\d{1,3})(?:(?P<sep>\s*[.:)—–-]+\s*|\s+)(?P<rest>\S.*?))?\s*[.:]?\s*$",
                       re.S)
_LETTER = re.compile(r"^\s*([A-Z])\s*\.?\s*$")
_CAPS_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.U)
_SMALL = {"a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "nor", "of", "on", "or", "the",
          "to", "with", "upon"}
_ROMAN_KEEP = re.compile(r"^[IVXLC]{2,7}$")


def letter_sections(titles: Sequence[str]) -> bool:
    """True when the titles are mostly single letters including non-roman ones (a dictionary's A ... Z)."""
    letters = [t.strip().rstrip(".") for t in titles if _LETTER.match(t)]
    return len(letters) >= 3 and any(roman_to_int(x) is None for x in letters) and len(letters) * 2 >= len(titles)


def _mostly_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and sum(c.isupper() for c in letters) / len(letters) > 0.6


def title_case(s: str) -> str:
    """Capitals in title case word by word: 'THE WONDER-BALL'S BEST GIFT' -> 'The Wonder-Ball's Best Gift'.

    Roman numerals (II, XIV), initials (U.S.A.) and words with digits stay as written; small words are lower
    case except first and after a colon, period or dash.
    """
    if not _mostly_caps(s):
        return s

    def word(m: re.Match) -> str:
        w = m.group(0)
        if not w.isupper() or _ROMAN_KEEP.match(w) or re.fullmatch(r"(?:[A-Z]\.)+", w):
            return w
        before = s[:m.start()].rstrip()
        first = not before or before[-1] in ":.—–-!?(\"“" and not re.search(r"(?:^|\s)(?:[A-Z]\.)+$", before)
        if w.lower() in _SMALL and not first:
            return w.lower()
        parts = re.split(r"(-)", w)
        out = "".join(p[:1] + p[1:].lower() for p in parts)
        return re.sub(r"^([A-Z])['’]([a-z])", lambda m: f"{m.group(1)}’{m.group(2).upper()}"
                      if "’" in w else f"{m.group(1)}'{m.group(2).upper()}", out)  # O'Brien, D'Arcy

    return _CAPS_WORD.sub(word, s)


def _number_words(num: str, language: str) -> str:
    if num.isdigit():
        value: int | None = int(num)
    else:
        value = roman_to_int(num.upper()) if re.fullmatch(r"[IVXLCDMivxlcdm]+", num) else None
    if value is None:
        return " ".join(num.lower().split())  # "the First" -> "the first"
    try:
        return num2words(value, lang=language)
    except NotImplementedError:
        return num2words(value)


def _finish(s: str) -> str:
    s = s.strip()
    if s and s[-1] in "\"”’'" and s[:-1] and s[-2] not in ".!?…":
        s = s[:-1].rstrip(",;:—–-") + "." + s[-1]  # "Taps" -> "Taps."
    elif s and s[-1] not in ".!?…\"”’'":
        s = s.rstrip(",;:—–-").rstrip() + "."
    return s if is_speakable(s) else ""


def heading_speech(title: str, language: str = "en", *, numbers: HeadingNumbers = HeadingNumbers.LABEL,
                   chapter_level: bool = False, letters: bool = False) -> str:
    """Speech for a heading; '' when it has nothing to say. See the module docstring for the rules."""
    title = re.sub(r"^#{1,6}[ \t]+|[ \t]+#+$", "", " ".join(title.split()))
    lang = (language or "en").split("-")[0].lower()
    english = lang == "en"
    m = _LETTER.match(title)
    if m and letters:
        return f"{m.group(1)}."
    m = _LABELLED.match(title)
    if m:
        label = m.group("label").rstrip(".")
        label = {"vol": "Volume", "chap": "Chapter", "ch": "Chapter"}.get(label.lower(), label.capitalize())
        head = f"{label} {_number_words(m.group('num'), lang)}"
        rest = m.group("rest") or ""
    else:
        m = _NUMBERED.match(title)
        ok = m is not None and (m.group("num").isdigit() or roman_to_int(m.group("num")) is not None)
        if ok and m.group("rest") and not (m.group("sep") or "").strip():
            # "II THE MEETING": a bare space after the numeral only when the title is in capitals
            ok = len(m.group("num")) >= 2 and not m.group("num").isdigit() and _mostly_caps(m.group("rest"))
        if not ok:
            return _finish(speech_text(title_case(title), language))
        number = _number_words(m.group("num"), lang)
        if chapter_level and english and numbers == HeadingNumbers.LABEL:
            head = f"Chapter {number}"
        else:
            head = number.capitalize()
        rest = m.group("rest") or ""
    rest = speech_text(title_case(rest), language) if rest else ""
    if not rest:
        return _finish(head)
    sep = ": " if numbers == HeadingNumbers.LABEL or m.re is _LABELLED else ". "
    return _finish(f"{head}{sep}{rest[0].upper()}{rest[1:]}")
