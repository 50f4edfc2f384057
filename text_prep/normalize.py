"""Speech text: what the narrator says for a piece of display text.

Chatterbox applies its own punctuation normalisation (``punc_norm``: ellipses and colons to commas, dashes,
curly quotes, a final period) when it synthesises, so this module does not repeat it; it produces text that is
ready to be read aloud: numbers, ordinals, years, currency, percentages and times spelled out with num2words,
roman numerals in headings ("CHAPTER IV." -> "Chapter four."), abbreviations (Mr., Mrs., Dr., St., i.e., e.g.),
footnote markers and illustration tags removed, URLs and e-mail addresses made speakable, symbols named,
emoji and invisible characters dropped, whitespace collapsed. Text with nothing to say becomes ''.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from num2words import CONVERTER_CLASSES, num2words

__all__ = ["heading_speech", "is_speakable", "roman_to_int", "speech_text"]

_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f]")
_SPACES = re.compile(r"\s+")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\U000e0000-\U000e007f]"
)
_BRACKET_TAG = re.compile(r"\[(?:Illustration|Footnote|Sidenote|Transcriber'?s? [Nn]ote|Note|Blank Page)[^\]]*\]?",
                          re.I)
_FOOTNOTE_MARK = re.compile(r"\[(?:\d{1,3}|[a-z]|[*†‡§])\]|\{\d{1,3}\}|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|(?<=[\w.,;:!?\"”’])[*†‡]+")
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"“”]+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SECTION_BREAK = re.compile(r"\*(?:\s*\*)+|-(?:\s*-){3,}|_(?:\s*_){2,}|=(?:\s*=){2,}|~(?:\s*~){2,}")

# English abbreviations: written form -> spoken form, found by one regex in one pass. Some depend on what
# follows: Dr./St. before a capitalised name are Doctor/Saint, otherwise Drive/Street; "No." only before a
# number. A period that ends the text (before closing quotes) is kept after the spoken form.
_ABBR = re.compile(
    r"\b(Mrs|Mr|Ms|Messrs|Dr|St|Prof|Rev|Capt|Col|Gen|Lt|Sgt|Maj|Hon|Jr|Sr|Mt|Ave|Nos|No|vs|v|etc|viz|cf|et al|"
    r"ibid|i\.\s?e|e\.\s?g|[aApP]\.\s?[mM])(\.?)(?=(\s*)(.?))"
)
_ABBR_SPOKEN = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Messrs": "Messieurs", "Prof": "Professor", "Rev": "Reverend",
    "Capt": "Captain", "Col": "Colonel", "Gen": "General", "Lt": "Lieutenant", "Sgt": "Sergeant", "Maj": "Major",
    "Hon": "Honourable", "Jr": "Junior", "Sr": "Senior", "Mt": "Mount", "Ave": "Avenue", "No": "number",
    "Nos": "numbers", "vs": "versus", "v": "versus", "etc": "et cetera", "viz": "namely", "cf": "compare",
    "et al": "and others", "ibid": "ibidem", "ie": "that is", "eg": "for example", "am": "A M", "pm": "P M",
}
_NO_PERIOD_OK = {"Mr", "Mrs", "Dr", "St"}  # British style: "Mr Smith"
_BEFORE_NAME = {"Gen", "Dr", "St"}
_CAN_END = {"am", "pm", "etc", "ibid"}  # followed by a capitalised word, these also end the sentence
_CLOSING = re.compile(r"^[\"'”’)\]]*\s*$")


def _abbreviation(m: re.Match) -> str:
    word, period, space, nxt = m.group(1), m.group(2), m.group(3), m.group(4)
    key = re.sub(r"[.\s]", "", word).lower() if "." in word else word
    if not period and word not in _NO_PERIOD_OK:
        return m.group(0)
    if nxt.isalnum() and not space:
        return m.group(0)  # "St.John" or "Mrs.x": leave it
    before_name = bool(space) and nxt.isupper()
    if word in ("Dr", "St"):
        if before_name:
            spoken = "Doctor" if word == "Dr" else "Saint"
        elif period:
            spoken = "Drive" if word == "Dr" else "Street"
        else:
            return m.group(0)
    elif word in _BEFORE_NAME and not before_name:
        return m.group(0)
    elif key in ("No", "Nos") and not nxt.isdigit():
        return m.group(0)
    elif key in ("Mr", "Mrs", "Ms", "Messrs", "Prof", "Rev", "Capt", "Col", "Lt", "Sgt", "Maj", "Hon", "Mt") \
            and not space and nxt:
        return m.group(0)
    else:
        spoken = _ABBR_SPOKEN.get(key) or _ABBR_SPOKEN.get(key.lower())
        if spoken is None:
            return m.group(0)
    if period and (_CLOSING.match(m.string[m.end():])
                   or key.lower() in _CAN_END and _SENTENCE_NEXT.match(m.string, m.end())):
        spoken += "."
    return spoken


_CURRENCY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
    "¥": ("yen", "yen", "sen", "sen"),
}
_SCALE = r"(?:\s+(thousand|million|billion|trillion))?"
_CENTS_ONLY = re.compile(r"([$£€])\.(\d{2})\b")
_CAPS_RUN = re.compile(r"\b[A-Z][A-Z'’]+(?:[\s,:;—-]+[A-Z][A-Z'’]+)+\b")
_MONEY = re.compile(r"([$£€¥])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?" + _SCALE + r"\b")
_PERCENT = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s?(%|per cent\b|percent\b)")
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)(?:\s?([AaPp])\.?\s?[Mm]\b\.?)?")
_SENTENCE_NEXT = re.compile(r"\s*(?:$|[\"“”'’)]|[A-Z])")
_ORDINAL = re.compile(r"\b(\d{1,9})(st|nd|rd|th|d)\b")
_YEAR = re.compile(r"(?<![\d,.$£€¥])\b(1[1-9]\d\d|20\d\d)s?\b(?![,.]\d|%)")
_DECIMAL = re.compile(r"(?<![\d,.])(\d+)\.(\d+)\b")
_GROUPED = re.compile(r"\b\d{1,3}(?:,\d{3})+\b")
_INTEGER = re.compile(r"\d+")
_FRACTIONS = {"½": "one half", "⅓": "one third", "⅔": "two thirds", "¼": "one quarter", "¾": "three quarters",
              "⅛": "one eighth", "⅜": "three eighths", "⅝": "five eighths", "⅞": "seven eighths"}
_FRACTION_RE = re.compile(r"(?:(\d+)\s?)?([½⅓⅔¼¾⅛⅜⅝⅞])")

_ROMAN = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")
_LABEL_ROMAN = re.compile(
    r"\b(CHAPTER|BOOK|PART|VOLUME|VOL\.|ACT|SCENE|STAVE|CANTO|SECTION|LETTER|Chapter|Book|Part|Volume|Vol\.|Act|"
    r"Scene|Stave|Canto|Section|Letter)(\s+)([IVXLCDM]+)\b\.?"
)
_REGNAL = re.compile(
    r"\b(King|Queen|Pope|Emperor|Henry|Edward|George|Louis|Charles|William|Richard|James|Elizabeth|Napoleon|Pius|"
    r"Philip|Frederick|Alexander|Peter|Catherine|Leo|Gregory|Innocent|Benedict|Clement)\s+([IVX]{1,5})\b"
    r"(\.(?=\s*[,;:a-z]))?"
)
_ALONE_ROMAN = re.compile(r"^\s*([IVXLCDM]+)\.?\s*$")

_SYMBOLS = [
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"(?<=\w)@(?=\w)"), " at "),
    (re.compile(r"°"), " degrees"),
    (re.compile(r"§§?\s?"), "section "),
    (re.compile(r"\s[+]\s|(?<=\d)\+(?=\d)"), " plus "),
    (re.compile(r"\s=\s"), " equals "),
    (re.compile(r"(?<=[A-Za-z])/(?=[A-Za-z])"), " "),
    (re.compile(r"--+"), "—"),
]
# Before numbers are spelled out: they need the digits.
_NUMBER_SYMBOLS = [
    (re.compile(r"#\s?(?=\d)"), "number "),
    (re.compile(r"(?<=\d)\s?[x×]\s?(?=\d)"), " by "),
    (re.compile(r"(?<=\d)\s?°\s?([CF])\b"), lambda m: " degrees " + ("Celsius" if m.group(1) == "C" else "Fahrenheit")),
]
_SYMBOL_CHARS = frozenset("&@°§+=/-")
_NUMBER_SYMBOL_CHARS = frozenset("#°x×")
_DROP = str.maketrans({c: " " for c in "_*©®™¶†‡|~^`<>{}[]\\=#"})
_MARK_CHARS = frozenset("[{¹²³⁴⁵⁶⁷⁸⁹⁰*†‡")
_BREAK_CHARS = frozenset("*-_=~")
_FRACTION_CHARS = frozenset(_FRACTIONS)
_WORD_CHAR = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")


def roman_to_int(s: str) -> int | None:
    """Value of a valid roman numeral in capitals, else None."""
    if not s or not _ROMAN.match(s):
        return None
    values = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}
    total = 0
    for a, b in zip(s, s[1:] + " ", strict=True):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


@lru_cache(maxsize=64)
def _num_lang(language: str) -> str:
    lang = (language or "en").replace("-", "_")
    if lang in CONVERTER_CLASSES:
        return lang
    base = lang.split("_")[0].lower()
    return base if base in CONVERTER_CLASSES else "en"


def _words(n: int | Decimal, lang: str, to: str = "cardinal") -> str:
    try:
        return num2words(n, lang=lang, to=to)
    except (NotImplementedError, OverflowError, InvalidOperation, ValueError, TypeError, KeyError, IndexError):
        return " ".join(num2words(int(d), lang=lang) for d in str(n) if d.isdigit())


def _int(s: str) -> int:
    return int(s.replace(",", ""))


def _numbers(text: str, lang: str) -> str:
    def money(m: re.Match) -> str:
        one, many, sub_one, sub_many = _CURRENCY[m.group(1)]
        whole = _int(m.group(2))
        if m.group(4):
            amount = Decimal(m.group(2).replace(",", "") + "." + (m.group(3) or "0"))
            return f"{_words(amount, lang)} {m.group(4)} {many}"
        out = f"{_words(whole, lang)} {one if whole == 1 else many}"
        cents = int((m.group(3) or "0").ljust(2, "0"))
        if cents:
            out += f" and {_words(cents, lang)} {sub_one if cents == 1 else sub_many}"
        return out

    def percent(m: re.Match) -> str:
        n = m.group(1).replace(",", "")
        return f"{_words(Decimal(n) if '.' in n else int(n), lang)} percent"

    def time(m: re.Match) -> str:
        h, mins, ap = int(m.group(1)), int(m.group(2)), m.group(3)
        out = _words(h, lang)
        if mins == 0:
            out += "" if ap else " o'clock"
        elif mins < 10:
            out += f" oh {_words(mins, lang)}"
        else:
            out += f" {_words(mins, lang)}"
        if ap:
            out += " A M" if ap.lower() == "a" else " P M"
            if m.group(0).endswith(".") and _SENTENCE_NEXT.match(m.string, m.end()):
                out += "."  # "p.m." also ended the sentence
        return out

    def ordinal(m: re.Match) -> str:
        if m.group(2) == "d" and m.group(1)[-1] not in "23":
            return m.group(0)
        return _words(int(m.group(1)), lang, "ordinal")

    def year(m: re.Match) -> str:
        y = int(m.group(1))
        spoken = _words(y, lang, "year") if lang.startswith("en") else _words(y, lang)
        if m.group(0).endswith("s"):
            spoken = spoken[:-1] + "ies" if spoken.endswith("y") else spoken + "s"
        return spoken

    def fraction(m: re.Match) -> str:
        whole = f"{_words(int(m.group(1)), lang)} and " if m.group(1) else ""
        return whole + _FRACTIONS[m.group(2)]

    text = _CENTS_ONLY.sub(lambda m: f"{_words(int(m.group(2)), lang)} {_CURRENCY[m.group(1)][3]}", text)
    text = _MONEY.sub(money, text)
    text = _PERCENT.sub(percent, text)
    text = _TIME.sub(time, text)
    if _FRACTION_CHARS.intersection(text):
        text = _FRACTION_RE.sub(fraction, text)
    text = _ORDINAL.sub(ordinal, text)
    text = _YEAR.sub(year, text)
    text = _DECIMAL.sub(lambda m: _words(Decimal(m.group(0)), lang), text)
    text = _GROUPED.sub(lambda m: _words(_int(m.group(0)), lang), text)
    def integer(m: re.Match) -> str:
        digits = m.group(0)
        spoken = _words(int(digits), lang) if len(digits) <= 15 else " ".join(_words(int(d), lang) for d in digits)
        after = m.string[m.end():m.end() + 1]
        return spoken + " " if after.isalpha() else spoken  # "221B" -> "two hundred and twenty-one B"

    return _INTEGER.sub(integer, text)


def _speakable_url(m: re.Match) -> str:
    url = m.group(0)
    trail = ""
    while url and url[-1] in ".,;:!?)'’":
        trail = url[-1] + trail
        url = url[:-1]
    host = re.sub(r"^(?:https?|ftp)://", "", url, flags=re.I)
    host = re.sub(r"^www\.", "", host, flags=re.I).split("/", 1)[0].split("?", 1)[0]
    return host.replace(".", " dot ") + trail


def _speakable_email(m: re.Match) -> str:
    user, domain = m.group(0).split("@", 1)
    return f"{user.replace('.', ' dot ')} at {domain.replace('.', ' dot ')}"


def _regnal(m: re.Match) -> str:
    n = roman_to_int(m.group(2))
    if n is None or m.group(2) == "I" and m.group(1) in ("King", "Queen", "Pope", "Emperor"):
        return m.group(0)
    return f"{m.group(1)} the {num2words(n, to='ordinal').capitalize()}"


def _label_roman(m: re.Match, lang: str) -> str:
    n = roman_to_int(m.group(3))
    if n is None:
        return m.group(0)
    label = m.group(1).rstrip(".")
    label = label.capitalize() if label.isupper() else label
    if label == "Vol":
        label = "Volume"
    return f"{label}{m.group(2)}{_words(n, lang)}" + ("." if m.group(0).endswith(".") else "")


def is_speakable(speech: str) -> bool:
    return _WORD_CHAR.search(speech) is not None


def speech_text(text: str, language: str = "en") -> str:
    """Speech for display text (a sentence or several); '' when there is nothing to say."""
    lang = _num_lang(language)
    english = lang.startswith("en")
    s = _INVISIBLE.sub("", text)
    s = _EMOJI.sub("", s)
    chars = frozenset(s)
    if "_" in chars:  # _italics_ in Gutenberg texts
        s = s.replace("_", "")
    if "[" in chars:
        s = _BRACKET_TAG.sub(" ", s)
    if chars & _MARK_CHARS:
        s = _FOOTNOTE_MARK.sub("", s)
    if chars & _BREAK_CHARS:
        s = _SECTION_BREAK.sub(" ", s)
    if "@" in s:
        s = _EMAIL.sub(_speakable_email, s)
    if "www" in s or "://" in s:
        s = _URL.sub(_speakable_url, s)
    s = _LABEL_ROMAN.sub(lambda m: _label_roman(m, lang), s)
    if english:
        s = _REGNAL.sub(_regnal, s)
        s = _ABBR.sub(_abbreviation, s)
    if _DIGIT.search(s) or chars & _FRACTION_CHARS:
        if chars & _NUMBER_SYMBOL_CHARS:
            for rx, repl in _NUMBER_SYMBOLS:
                s = rx.sub(repl, s)
        s = _numbers(s, lang)
    if chars & _SYMBOL_CHARS:
        for rx, repl in _SYMBOLS:
            s = rx.sub(repl, s)
    s = _SPACES.sub(" ", s.translate(_DROP)).strip()
    if english:
        s = _CAPS_RUN.sub(lambda m: _title_case_caps(m.group(0)), s)  # "THE GENERAL STRIKE" is not an acronym
    return s if is_speakable(s) else ""


def _mostly_caps(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.6


_SMALL_WORDS = {"A", "An", "And", "As", "At", "But", "By", "For", "From", "In", "Into", "Nor", "Of", "On", "Or",
                "The", "To", "With"}


def _title_case_caps(s: str) -> str:
    """ALL-CAPS words in title case (a narrator should not spell them out); small words in lower case."""
    def word(m: re.Match) -> str:
        w = m.group(0).capitalize()
        return w.lower() if w in _SMALL_WORDS and m.start() > 0 and s[m.start() - 2:m.start()] not in (". ", ": ")\
            else w

    return re.sub(r"\b[A-Z][A-Z'’]*\b", word, s)


def heading_speech(title: str, language: str = "en") -> str:
    """Speech for a heading: a lone roman numeral becomes a number, capitals become title case, ends with '.'."""
    lang = _num_lang(language)
    m = _ALONE_ROMAN.match(title)
    if m and roman_to_int(m.group(1)) is not None:
        s = _words(roman_to_int(m.group(1)), lang).capitalize()
    else:
        s = speech_text(_LABEL_ROMAN.sub(lambda m: _label_roman(m, lang), title), language)
        if _mostly_caps(title):
            s = _title_case_caps(s)
    if s and s[-1] not in ".!?":
        s = s.rstrip(",;:—-") + "."
    return s if is_speakable(s) else ""
