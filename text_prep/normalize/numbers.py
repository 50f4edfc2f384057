"""Numbers in context: percentages, times, fractions ("1/352", "8½"), ratios ("18/94"), old-style years
("1726/7"), ranges ("(1749–1753)", "pp. 3–5"), decades ("’60s"), dates ("January 6", "6 January"), ordinals,
years, decimals and plain integers, in that order (the specific shapes first, plain integers last).
"""

from __future__ import annotations

import re
from decimal import Decimal

from text_prep.normalize.spell import fraction_words, words

__all__ = ["spell_numbers"]

_PERCENT = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s?(%|per cent\b|percent\b)")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?:\s?([AaPp])\.?\s?[Mm]\b\.?)?")
_AFTER_SENTENCE = re.compile(r"(?:^|[.!?:][\"”’)]*\s+)$")
_SENTENCE_NEXT = re.compile(r"\s*(?:$|[\"“”'’)]|[A-Z])")
_ORDINAL = re.compile(r"\b(\d{1,9})(st|nd|rd|th|d)\b")
_YEAR = re.compile(r"(?<![\d,.$£€¥])\b(1[1-9]\d\d|20\d\d)s?\b(?![,.]\d|%)")
_DECIMAL = re.compile(r"(?<![\d,.])(\d+)\.(\d+)\b")
_DECIMAL_FRACTION = re.compile(r"(?<![\d,.])(\d+\.\d+)([½¼¾])")  # an account's "14.72½"
_GROUPED = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_INTEGER = re.compile(r"\d+")
_UNICODE_FRACTIONS = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
                      "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅐": (1, 7), "⅛": (1, 8), "⅜": (3, 8),
                      "⅝": (5, 8), "⅞": (7, 8), "⅑": (1, 9), "⅒": (1, 10)}
_UNICODE_FRACTION = re.compile(r"(?:(?<![\d.,])(\d+)[\s-]?)?([" + "".join(_UNICODE_FRACTIONS) + r"])")
_SLASH = re.compile(r"(?<![\d/.,])(?:(\d+)[\s-])?(\d{1,7})/(\d{1,7})(?![\d/]|\.\d)")
_COMMON_DENOMINATORS = frozenset(range(2, 13)) | {16, 32, 64}
_RANGE = re.compile(r"(?<![\d.,/])(\d{1,4})(\s?[–—]\s?|-)(\d{1,4})(?!\d|[.,/]\d|\s?%)")
_DECADE = re.compile(r"(?<![\w'’])['’]?([1-9])0['’]?s\b")
_SHORT_YEAR = re.compile(r"(?<![\w'’])['’](\d\d)\b(?!['’]?s\b|[.,:]\d)")  # "in ’84" -> "in eighty-four"
_SHORT_YEAR_RANGE = re.compile(r"(?<![\w'’])['’](\d\d)\s?[–-]\s?['’]?(\d{1,2})\b(?![.,:]\d)")  # "’52–3"
_ERA_YEAR = re.compile(r"(?<=A\.D\. )(\d{4})\b|(?<=\bAD )(\d{4})\b|\b(\d{4})(?= (?:A\.D\.|B\.C\.|AD\b|BC\b|"
                       r"B\.C\.E\.|C\.E\.|BCE\b|CE\b))")
_DECADES = {1: "tens", 2: "twenties", 3: "thirties", 4: "forties", 5: "fifties", 6: "sixties", 7: "seventies",
            8: "eighties", 9: "nineties", 0: "noughties"}
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_MONTH_DAY = re.compile(r"\b(" + _MONTHS + r")\.?\s+(\d{1,2})(?:st|nd|rd|th|d)?\b(?![.,]?\d|:|\s*%)")
_DAY_MONTH = re.compile(r"(?<![\d,.])\b(\d{1,2})(?:st|nd|rd|th|d)?\s+(of\s+)?(" + _MONTHS + r")\b")


def _year(y: int, lang: str) -> str:
    return words(y, lang, "year") if lang.startswith("en") else words(y, lang)


def _is_year(s: str) -> bool:
    return len(s) == 4 and 1000 <= int(s) <= 2099


def _fraction_or_ratio(m: re.Match, lang: str) -> str:
    whole, a, b = m.group(1), m.group(2), m.group(3)
    num, den = int(a), int(b)
    if whole is None and _is_year(a) and len(b) <= 2 and (num + 1) % 10 ** len(b) == den:
        return f"{_year(num, lang)} to {_year(num + 1, lang)}"  # "1726/7": an old-style (dual) year
    if den == 0:
        return f"{words(num, lang)} over {words(den, lang)}"
    of_follows = m.string[m.end():m.end() + 4].startswith(" of")
    if whole is not None:
        return f"{words(int(whole), lang)} and {fraction_words(num, den, lang)}"
    if num == 1 or den in _COMMON_DENOMINATORS and num < den * 4 or of_follows and (num < 10 or den in (10, 100, 1000)):
        return fraction_words(num, den, lang)
    if num < den:
        return f"{words(num, lang)} out of {words(den, lang)}"  # "18/94 distinct species"
    return f"{words(num, lang)} over {words(den, lang)}"


def _range(m: re.Match, lang: str) -> str:
    a, dash, b = m.group(1), m.group(2), m.group(3)
    before = m.string[max(0, m.start() - 8):m.start()]
    pages = re.search(r"(?:pages?|numbers?|p\.|pp\.|Nos?\.)\s*$", before, re.I) is not None
    if _is_year(a) and not pages:
        if len(b) < 4:
            b = a[:4 - len(b)] + b  # "1749–53" -> 1753
        if int(b) <= int(a) or not _is_year(b):
            return m.group(0)
        return f"{_year(int(a), lang)} to {_year(int(b), lang)}"
    if dash == "-":
        return m.group(0)  # "555-1234" or "3-2" (a score): not a range
    return f"{words(int(a), lang)} to {words(int(b), lang)}"


def _ordinal(m: re.Match, lang: str) -> str:
    if m.group(2) == "d" and m.group(1)[-1] not in "23":
        return m.group(0)
    return words(int(m.group(1)), lang, "ordinal")


def spell_numbers(text: str, lang: str) -> str:
    """``text`` with every number in words (money is said before this, by ``money.spell_money``)."""
    english = lang.startswith("en")

    def percent(m: re.Match) -> str:
        n = m.group(1).replace(",", "")
        return f"{words(Decimal(n) if '.' in n else int(n), lang)} percent"

    def time(m: re.Match) -> str:
        h, mins, ap = int(m.group(1)), int(m.group(2)), m.group(3)
        out = words(h, lang)
        if mins == 0:
            out += "" if ap else " o'clock"
        elif mins < 10:
            out += f" oh {words(mins, lang)}"
        else:
            out += f" {words(mins, lang)}"
        if ap:
            out += " A M" if ap.lower() == "a" else " P M"
            if m.group(0).endswith(".") and _SENTENCE_NEXT.match(m.string, m.end()):
                out += "."  # "p.m." also ended the sentence
        return out

    def unicode_fraction(m: re.Match) -> str:
        num, den = _UNICODE_FRACTIONS[m.group(2)]
        spoken = fraction_words(num, den, lang)
        return f"{words(int(m.group(1)), lang)} and {spoken}" if m.group(1) else spoken

    def year(m: re.Match) -> str:
        spoken = _year(int(m.group(1)), lang)
        if m.group(0).endswith("s"):
            spoken = spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
        return spoken

    if "%" in text or "cent" in text:
        text = _PERCENT.sub(percent, text)
    if ":" in text:
        text = _TIME.sub(time, text)
    if "/" in text:
        text = _SLASH.sub(lambda m: _fraction_or_ratio(m, lang), text)
    if not text.isascii():
        text = _DECIMAL_FRACTION.sub(lambda m: f"{words(Decimal(m.group(1)), lang)} and "
                                     f"{fraction_words(*_UNICODE_FRACTIONS[m.group(2)], lang)}", text)
        text = _UNICODE_FRACTION.sub(unicode_fraction, text)
    if english:
        text = _DECADE.sub(lambda m: _DECADES[int(m.group(1))], text)
        if "'" in text or "’" in text:
            text = _SHORT_YEAR_RANGE.sub(lambda m: _short_year_range(m, lang), text)
            text = _SHORT_YEAR.sub(lambda m: _short_year(m.group(1), lang), text)
    if "–" in text or "—" in text or "-" in text:
        text = _RANGE.sub(lambda m: _range(m, lang), text)
    if english:
        text = _MONTH_DAY.sub(lambda m: f"{m.group(1)} {words(int(m.group(2)), lang, 'ordinal')}"
                              if 1 <= int(m.group(2)) <= 31 else m.group(0), text)
        text = _DAY_MONTH.sub(lambda m: _day_month(m, lang), text)
    text = _ORDINAL.sub(lambda m: _ordinal(m, lang), text)
    if english and ("A" in text or "C" in text):
        text = _ERA_YEAR.sub(lambda m: _year(int(m.group(m.lastindex)), lang), text)  # "A.D. 1066"
    text = _YEAR.sub(year, text)
    text = _DECIMAL.sub(lambda m: words(Decimal(m.group(0)), lang), text)
    text = _GROUPED.sub(lambda m: words(int(m.group(0).replace(",", "")), lang), text)

    def integer(m: re.Match) -> str:
        digits = m.group(0)
        spoken = words(int(digits), lang) if len(digits) <= 15 else " ".join(words(int(d), lang) for d in digits)
        after = m.string[m.end():m.end() + 1]
        if _AFTER_SENTENCE.search(m.string, max(0, m.start() - 4), m.start()) and after == ".":
            spoken = spoken.capitalize()  # a numbered list item: "… day. 2. Being …" -> "Two. Being"
        return spoken + " " if after.isalpha() else spoken  # "221B" -> "two hundred and twenty-one B"

    return _INTEGER.sub(integer, text)


def _short_year_range(m: re.Match, lang: str) -> str:
    a, b = m.group(1), m.group(2)
    b = a[:2 - len(b)] + b  # "’52–3": '53
    return f"{_short_year(a, lang)} to {_short_year(b, lang)}"


def _short_year(digits: str, lang: str) -> str:
    n = int(digits)
    return f"oh {words(n, lang)}" if digits[0] == "0" else words(n, lang)


def _day_month(m: re.Match, lang: str) -> str:
    day = int(m.group(1))
    if not 1 <= day <= 31:
        return m.group(0)
    before = m.string[max(0, m.start() - 4):m.start()].lower()
    the = "" if before.endswith("the ") else "the "
    return f"{the}{words(day, lang, 'ordinal')} of {m.group(3)}"
