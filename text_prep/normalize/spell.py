"""Numbers as words: num2words for the language, with a digit-by-digit fallback it never fails on."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import lru_cache

from num2words import CONVERTER_CLASSES, num2words

__all__ = ["fraction_words", "num_lang", "ordinal_compound", "words"]


@lru_cache(maxsize=64)
def num_lang(language: str) -> str:
    """num2words' name for a BCP 47 tag ("en-GB" -> "en_GB" or "en"); English when it has none."""
    lang = (language or "en").replace("-", "_")
    if lang in CONVERTER_CLASSES:
        return lang
    base = lang.split("_")[0].lower()
    return base if base in CONVERTER_CLASSES else "en"


@lru_cache(maxsize=8192)  # books repeat their numbers (years, small counts); num2words is slow
def words(n: int | Decimal, lang: str = "en", to: str = "cardinal") -> str:
    """``n`` in words; English without num2words' commas ("one thousand four hundred"): a comma is a pause."""
    try:
        spoken = num2words(n, lang=lang, to=to)
        return spoken.replace(",", "") if lang.startswith("en") else spoken
    except (NotImplementedError, OverflowError, InvalidOperation, ValueError, TypeError, KeyError, IndexError):
        return " ".join(num2words(int(d), lang=lang) for d in str(n) if d.isdigit())


def ordinal_compound(n: int) -> str:
    """An ordinal as one compound word, the way fractions say it: 352 -> "three-hundred-fifty-second"."""
    return words(n, "en", "ordinal").replace(" and ", " ").replace(",", "").replace(" ", "-")


_DENOMINATORS = {2: ("half", "halves"), 4: ("quarter", "quarters")}


def fraction_words(num: int, den: int, lang: str = "en") -> str:
    """ "one half", "three quarters", "five eighths", "thirty-two hundredths", "one three-hundred-fifty-second"."""
    name = ordinal_compound(den)
    if den in (100, 1000, 1_000_000):
        name = name.removeprefix("one-")  # "hundredth", not "one-hundredth"
    one, many = _DENOMINATORS.get(den) or (name, name + "s")
    return f"{words(num, lang)} {one if num == 1 else many}"
