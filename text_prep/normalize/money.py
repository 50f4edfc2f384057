"""Money: decimal currencies ("$1.50", "$0.75", "£3", "$5 million") and pre-decimal British money
("£88 10s.", "2s. 6d.", "8½d.", "5l.", "5/-", "2/6"), said the way a narrator says them.

Pre-decimal amounts: "£88 10s." -> "eighty-eight pounds ten shillings", "2s. 6d." -> "two shillings and
sixpence", "8½d." -> "eightpence halfpenny", "1½d." -> "three halfpence", "¼d." -> "a farthing"; the slash
form "2/6" (where money is spoken of, or "2/6d.") -> "two and six". A period that ends the sentence after
"s." or "d." is kept.
"""

from __future__ import annotations

import re
from decimal import Decimal

from text_prep.normalize.spell import words

__all__ = ["spell_money"]

_CURRENCY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}
_SCALE = r"(?:\s+(thousand|million|billion|trillion))?"
_CENTS_ONLY = re.compile(r"([$£€])\.(\d{2})\b")
_MONEY = re.compile(r"([$£€¥])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2})([½¼¾])?)?" + _SCALE + r"(?:\b|(?<=[½¼¾]))")
_CENT_FRACTIONS = {"½": "a half", "¼": "a quarter", "¾": "three quarters"}

_AMOUNT = r"\d{1,3}(?:,\d{3})+|\d+"
_SHILLINGS = r"(?P<s>\d{1,3})\s?s(?:\.|\b(?=,?\s+\d{1,2}[½¼¾]?\s?d\b))"
_PENCE = r"(?P<d>\d{1,2})?(?P<df>[½¼¾])?\s?d\b\.?"
_LSD = re.compile(
    r"(?:£\s?(?P<l>" + _AMOUNT + r")(?![\d.]\d)|(?<![\w£$.,])(?P<l2>" + _AMOUNT + r")\s?l\.(?=[\s,;:)]|$))"
    r"(?:,?\s+" + _SHILLINGS + r")?"
    r"(?:,?\s+(?=\d|[½¼¾])" + _PENCE + r")?"
)
_SD = re.compile(
    r"(?<![\w£$.,'’/])" + _SHILLINGS + r"(?:,?\s*(?=\d|[½¼¾])" + _PENCE + r")?"
    r"|(?<![\w£$.,'’/])(?P<d2>\d{1,2})?(?P<df2>[½¼¾])?d(?:\.|\b(?![’']))"
)
_SD_HINT = re.compile(r"\d\s?[sd]\b|[½¼¾]\s?d\b")
_SHILLINGS_DASH = re.compile(r"(?<![\w/])(\d{1,2})/-")
# Shillings and pence written "2/6" ("two and six"): with a "d", or where money is spoken of.
_SLASH_MONEY = re.compile(r"(?<![\d/.,£$])(\d{1,2})/(\d{1,2})(d\b\.?)?(?![\d/]|\.\d)")
_MONEY_BEFORE = re.compile(r"\b(?:price[ds]?|costs?|paid|pay|at|for|worth|sold|charged?|fare|fee|rent|wages?|"
                           r"subscription|shillings?)\s+$", re.I)
_MONEY_AFTER = re.compile(r"\s+(?:each|a\s+(?:week|year|month|day|head|piece|pound|yard|dozen|copy|bottle)|per\b|"
                          r"net\b)")
_SENTENCE_END = re.compile(r"\s*(?:$|[\"”’)]*\s*$|\s[A-Z“\"])")
_PENCE_WORDS = {1: "one penny", 2: "twopence", 3: "threepence", 4: "fourpence", 5: "fivepence", 6: "sixpence",
                7: "sevenpence", 8: "eightpence", 9: "ninepence", 10: "tenpence", 11: "elevenpence"}
_FRACTION_PENNY = {"½": "halfpenny", "¼": "farthing", "¾": "three farthings"}
_FRACTION_ALONE = {"½": "a halfpenny", "¼": "a farthing", "¾": "three farthings"}


def _pence(d: str | None, frac: str | None, lang: str) -> str:
    n = int(d) if d else 0
    if n == 1 and frac == "½":
        return "three halfpence"
    if n == 0:
        return _FRACTION_ALONE[frac] if frac else "nothing"
    spoken = _PENCE_WORDS.get(n) or f"{words(n, lang)} pence"
    return f"{spoken} {_FRACTION_PENNY[frac]}" if frac else spoken


def _count(n: int, one: str, many: str, lang: str) -> str:
    return f"{words(n, lang)} {one if n == 1 else many}"


def _lsd(pounds: str | None, shillings: str | None, d: str | None, frac: str | None, lang: str) -> str:
    parts = []
    if pounds:
        parts.append(_count(int(pounds.replace(",", "")), "pound", "pounds", lang))
    if shillings:
        parts.append(_count(int(shillings), "shilling", "shillings", lang))
    if d or frac:
        parts.append(("and " if parts else "") + _pence(d, frac, lang))
    return " ".join(parts)


def _kept_period(m: re.Match) -> str:
    return "." if m.group(0).endswith(".") and _SENTENCE_END.match(m.string, m.end()) else ""


def spell_money(text: str, lang: str) -> str:
    """``text`` with its amounts of money in words (other numbers untouched)."""
    if "£" in text or "l." in text:
        def lsd(m: re.Match) -> str:
            if m.group("l2") is None and not (m.group("s") or m.group("d") or m.group("df")):
                return m.group(0)  # plain "£3": the decimal rule below says it
            return _lsd(m.group("l") or m.group("l2"), m.group("s"), m.group("d"), m.group("df"), lang) \
                + _kept_period(m)

        text = _LSD.sub(lsd, text)
    if _SD_HINT.search(text):
        def sd(m: re.Match) -> str:
            before = m.string[max(0, m.start() - 4):m.start()]
            if m.group("s") is not None:
                if before.endswith("the ") and not m.group("d"):
                    return m.group(0)  # "the 60s."
                return _lsd(None, m.group("s"), m.group("d"), m.group("df"), lang) + _kept_period(m)
            d, frac = m.group("d2"), m.group("df2")
            if not (d or frac) or before.endswith("the ") or \
                    not m.group(0).endswith(".") and not frac and d and d[-1] in "23":
                return m.group(0)  # "the 2d of May" is an ordinal
            return _lsd(None, None, d, frac, lang) + _kept_period(m)

        text = _SD.sub(sd, text)
    if "/" in text:
        def slash(m: re.Match) -> str:
            n, d = int(m.group(1)), int(m.group(2))
            if d > 11:
                return m.group(0)
            if not m.group(3):
                fraction_like = d in (2, 3, 4, 8) and n < d
                if fraction_like or not (_MONEY_BEFORE.search(m.string, max(0, m.start() - 16), m.start())
                                         or _MONEY_AFTER.match(m.string, m.end())):
                    return m.group(0)
            spoken = f"{words(n, lang)} and {words(d, lang)}" if d else _count(n, "shilling", "shillings", lang)
            return spoken + (_kept_period(m) if m.group(3) else "")

        text = _SLASH_MONEY.sub(slash, text)
    if "/-" in text:
        text = _SHILLINGS_DASH.sub(lambda m: _count(int(m.group(1)), "shilling", "shillings", lang), text)
    if not any(c in text for c in "$£€¥"):
        return text

    def money(m: re.Match) -> str:
        one, many, sub_one, sub_many = _CURRENCY[m.group(1)]
        whole = int(m.group(2).replace(",", ""))
        if m.group(5):
            amount = Decimal(m.group(2).replace(",", "") + "." + (m.group(3) or "0"))
            return f"{words(amount, lang)} {m.group(5)} {many}"
        cents = int((m.group(3) or "0").ljust(2, "0"))
        part = m.group(4)
        cents_said = f"{words(cents, lang)}" + (f" and {_CENT_FRACTIONS[part]}" if part else "")
        cents_said += f" {sub_one if cents == 1 and not part else sub_many}"  # "$28.12½": "twelve and a half cents"
        if whole == 0 and (cents or part):
            return cents_said  # "$0.75"
        out = f"{words(whole, lang)} {one if whole == 1 else many}"
        if cents or part:
            out += f" and {cents_said}"
        return out

    text = _CENTS_ONLY.sub(lambda m: f"{words(int(m.group(2)), lang)} {_CURRENCY[m.group(1)][3]}", text)
    return _MONEY.sub(money, text)
