"""Roman numerals: their value, after a label ("CHAPTER IV" -> "Chapter four") and after a ruler's name
("Henry VIII" -> "Henry the Eighth")."""

from __future__ import annotations

import re

from text_prep.normalize.spell import words

__all__ = ["LABEL_ROMAN", "REGNAL", "TITLED_REGNAL", "is_roman", "label_roman", "regnal", "roman_to_int",
           "titled_regnal"]

_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}

LABEL_ROMAN = re.compile(
    r"\b(CHAPTER|BOOK|PART|VOLUME|VOL\.|ACT|SCENE|STAVE|CANTO|SECTION|LETTER|Chapter|Book|Part|Volume|Vol\.|Act|"
    r"Scene|Stave|Canto|Section|Letter|vol\.|vols\.|Vols\.|chap\.|Chap\.|ch\.|Ch\.|No\.|Nos\.|page|pages|p\.|pp\.)(\s+)([IVXLCDM]+|[ivxlc]+)\b\.?"
)
REGNAL = re.compile(
    r"\b(King|Queen|Pope|Emperor|Henry|Edward|George|Louis|Charles|William|Richard|James|Elizabeth|Napoleon|Pius|"
    r"Philip|Frederick|Alexander|Peter|Catherine|Leo|Gregory|Innocent|Benedict|Clement)\s+([IVX]{1,5})\b"
    r"(\.(?=\s*[,;:a-z]))?"
)
# A title, a name that is not in REGNAL's list, and a numeral: "King Necho II", "Pharaoh Ramses II".
TITLED_REGNAL = re.compile(r"\b(King|Queen|Pope|Emperor|Empress|Tsar|Czar|Pharaoh|Sultan|Shah|Duke|Prince|Princess|"
                           r"Kaiser)\s+([A-Z][a-z]+)\s+([IVX]{1,5})\b(\.(?=\s*[,;:a-z]))?")
_LABELS = {"Vol": "Volume", "Vols": "Volumes", "Chap": "Chapter", "Ch": "Chapter", "No": "number", "Nos": "numbers",
           "P": "page", "Pp": "pages"}
_ONE_LETTER_OK = frozenset("VXLC")  # "No. I" may be "No. I am not"; "No. V" is a number


def roman_to_int(s: str) -> int | None:
    """Value of a valid roman numeral in capitals, else None."""
    if not s or not _ROMAN.match(s):
        return None
    total = 0
    for a, b in zip(s, s[1:] + " ", strict=True):
        v = _VALUES[a]
        total += -v if b != " " and _VALUES[b] > v else v
    return total


def is_roman(s: str) -> bool:
    return roman_to_int(s) is not None


def titled_regnal(m: re.Match) -> str:
    n = roman_to_int(m.group(3))
    if n is None:
        return m.group(0)
    return f"{m.group(1)} {m.group(2)} the {words(n, 'en', 'ordinal').capitalize()}"


def regnal(m: re.Match) -> str:
    n = roman_to_int(m.group(2))
    if n is None or m.group(2) == "I" and m.group(1) in ("King", "Queen", "Pope", "Emperor"):
        return m.group(0)
    return f"{m.group(1)} the {words(n, 'en', 'ordinal').capitalize()}"


def label_roman(m: re.Match, lang: str) -> str:
    numeral = m.group(3)
    n = roman_to_int(numeral.upper()) if numeral.islower() and m.group(1)[0].islower() else roman_to_int(numeral)
    if n is None or len(numeral) == 1 and numeral.upper() not in _ONE_LETTER_OK and m.group(1) in ("No.", "Nos."):
        return m.group(0)
    label = m.group(1).rstrip(".")
    label = label.capitalize() if label.isupper() else label
    label = _LABELS.get(label.capitalize(), label)
    if m.group(1)[0].islower():
        label = label.lower()
    return f"{label}{m.group(2)}{words(n, lang)}" + ("." if m.group(0).endswith(".") else "")
