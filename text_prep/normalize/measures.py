"""Units after a number ("6 lbs." -> "6 pounds", "five ft. seven in." -> "five feet seven inches") and "do."
(ditto) in lists and accounts. Numbers are left as digits for the number rules that run next.

A unit is expanded only right after a number (digits, a fraction, a number word, "a", "per"), so "in." and
"st." elsewhere are untouched; singular after 1, "one", "a" and "per".
"""

from __future__ import annotations

import re

__all__ = ["expand_ditto", "expand_units"]

_UNITS = {
    "ft": ("foot", "feet"), "in": ("inch", "inches"), "yd": ("yard", "yards"), "yds": ("yard", "yards"),
    "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"), "oz": ("ounce", "ounces"), "ozs": ("ounce", "ounces"),
    "cwt": ("hundredweight", "hundredweight"), "st": ("stone", "stone"), "qr": ("quarter", "quarters"),
    "qrs": ("quarter", "quarters"), "gal": ("gallon", "gallons"), "gals": ("gallon", "gallons"),
    "pt": ("pint", "pints"), "pts": ("pint", "pints"), "qt": ("quart", "quarts"), "qts": ("quart", "quarts"),
    "bu": ("bushel", "bushels"), "doz": ("dozen", "dozen"), "hr": ("hour", "hours"), "hrs": ("hour", "hours"),
    "min": ("minute", "minutes"), "mins": ("minute", "minutes"), "sec": ("second", "seconds"),
    "secs": ("second", "seconds"), "wk": ("week", "weeks"), "wks": ("week", "weeks"), "mi": ("mile", "miles"),
    "cm": ("centimetre", "centimetres"), "mm": ("millimetre", "millimetres"), "km": ("kilometre", "kilometres"),
    "kg": ("kilogram", "kilograms"), "mg": ("milligram", "milligrams"), "ml": ("millilitre", "millilitres"),
    "sq": ("square", "square"), "cu": ("cubic", "cubic"), "pp": ("page", "pages"),
}
_NEED_PERIOD = {"pp", "in", "st", "pt", "qt", "bu", "min", "sec", "mi", "sq", "cu", "qr", "wk"}
_NUMBER_WORD = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
                r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
                r"hundred|thousand|a|an|per|half|a half|few|several")
_UNIT = re.compile(
    r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?[½¼¾⅓⅔⅛]?|[½¼¾⅓⅔⅛]|(?i:" + _NUMBER_WORD + r"))(\s?)"
    r"(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b(\.?)"
)
_SINGULAR = frozenset({"1", "one", "a", "an", "per", "One", "A", "An", "Per"})
_SENTENCE_END = re.compile(r"\s*(?:$|[\"”’)]*\s*$|\s[A-Z“\"])")
_DITTO = re.compile(r"\b[Dd]o\.(?=[\s,;]|$)")
_ITEM_START = re.compile(r"[,;\n]\s*[^,;\n]*$")
_DITTO_AFTER = re.compile(r",|\s*[\d£$]|\s+(?:of|ditto|do\.)\s")


def expand_units(text: str) -> str:
    def unit(m: re.Match) -> str:
        number, space, name, period = m.groups()
        if not space and not number[-1].isdigit() and number[-1] not in "½¼¾⅓⅔⅛":
            return m.group(0)
        if not period and name in _NEED_PERIOD:
            return m.group(0)
        if number.isalpha() and not period and name not in ("lb", "lbs", "oz", "cwt", "doz"):
            return m.group(0)  # "a mm" / "few hrs" without a period: leave alone
        if name == "in" and number.isalpha() and not re.match(r"\s*(?:[a-z,;\d])", m.string[m.end():]):
            return m.group(0)  # "No one in. The ..." is not an inch
        one, many = _UNITS[name]
        spoken = one if number in _SINGULAR else many
        end = "." if period and _SENTENCE_END.match(m.string, m.end()) else ""
        return f"{number} {spoken}{end}"

    return _UNIT.sub(unit, text)


def expand_ditto(text: str) -> str:
    """ "do." is "ditto" in a list or an account: right after a number, before a comma, a number or "of", or
    in a list item (the text since the last comma) that starts with a number ("3 lb. sugar do.")."""
    def ditto(m: re.Match) -> str:
        before = m.string[:m.start()]
        item = before[before.rfind(",") + 1:] if "," in before else before
        if m.group(0)[0] == "D" and before.strip() and not before.rstrip().endswith(("\n", ",")) and \
                not before[-3:].strip()[-1:].isdigit():
            return m.group(0)  # "Do." starting a sentence
        if _DITTO_AFTER.match(m.string, m.end()) or item.strip()[:1].isdigit():
            return "ditto." if _SENTENCE_END.match(m.string, m.end()) else "ditto"
        return m.group(0)

    return _DITTO.sub(ditto, text)
