"""English abbreviations: written form -> spoken form, found by one regex in one pass.

Most depend on what follows or precedes them: titles (Mr., Capt.) before a name; "No.", "vol.", "pp.", "p.",
"fig." and month names ("Aug. 3rd") only before a number; "yrs." is "years" after a number and "yours"
elsewhere (a letter's closing); "St." is Saint before a name, Street after one ("Baker St."), and left as
written when the context does not say ("Mr. Neville St.—"). A period that ends the sentence is kept after the
spoken form. Book sizes ("4to", "8vo") are read as their names ("quarto", "octavo").
"""

from __future__ import annotations

import re

__all__ = ["BOOK_SIZES", "expand_abbreviations"]

_SPOKEN = {
    "Mr": "Mister", "Mrs": "Missus", "Ms": "Miz", "Messrs": "Messieurs", "Prof": "Professor", "Rev": "Reverend",
    "Capt": "Captain", "Col": "Colonel", "Gen": "General", "Lt": "Lieutenant", "Sgt": "Sergeant", "Maj": "Major",
    "Hon": "Honourable", "Lieut": "Lieutenant", "Sergt": "Sergeant", "Insp": "Inspector",
    "Supt": "Superintendent", "Rt": "Right", "Mme": "Madame", "Mlle": "Mademoiselle", "Mons": "Monsieur",
    "Adm": "Admiral", "Cpl": "Corporal", "Gov": "Governor", "Bart": "Baronet", "Jr": "Junior", "Sr": "Senior",
    "Mt": "Mount", "Ave": "Avenue", "Esq": "Esquire", "Bros": "Brothers", "Co": "Company", "Ltd": "Limited",
    "Inc": "Incorporated",
    "No": "number", "Nos": "numbers", "no": "number", "nos": "numbers", "vol": "volume", "vols": "volumes",
    "Vol": "Volume", "Vols": "Volumes", "pp": "pages", "p": "page", "fig": "figure", "figs": "figures",
    "Fig": "Figure", "Figs": "Figures", "chap": "chapter", "Chap": "Chapter", "ch": "chapter",
    "vs": "versus", "v": "versus", "etc": "et cetera", "viz": "namely", "cf": "compare", "et al": "and others",
    "ibid": "ibidem", "Ibid": "Ibidem", "MSS": "manuscripts", "MS": "manuscript", "ie": "that is",
    "eg": "for example", "am": "A M", "pm": "P M",
    "inst": "instant", "ult": "ultimo", "prox": "proximo", "yrs": "years", "Yrs": "Yours", "mos": "months",
    "Jan": "January", "Feb": "February", "Mar": "March", "Apr": "April", "Jun": "June", "Jul": "July",
    "Aug": "August", "Sep": "September", "Sept": "September", "Oct": "October", "Nov": "November",
    "Dec": "December",
}
_TITLES = {"Mr", "Mrs", "Ms", "Messrs", "Prof", "Rev", "Capt", "Col", "Lt", "Sgt", "Maj", "Hon", "Mt", "Lieut",
           "Sergt", "Insp", "Supt", "Rt", "Mme", "Mlle", "Mons", "Adm", "Cpl", "Gov"}
_SENTENCE_START = re.compile(r"(?:^|[.!?][\"”’)]*\s+|[“\"‘(]\s*)$")
_NO_PERIOD_OK = {"Mr", "Mrs", "Dr", "St"}  # British style: "Mr Smith"
_BEFORE_NUMBER = {"No", "Nos", "no", "nos", "vol", "vols", "Vol", "Vols", "pp", "p", "fig", "figs", "Fig", "Figs",
                  "chap", "Chap", "ch", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct",
                  "Nov", "Dec"}
_MONTHS = {"Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"}
_CAN_END = {"Bros", "Co", "Ltd", "Inc", "am", "pm", "etc", "ibid", "Ibid", "MSS", "MS", "Esq", "inst", "ult",
            "prox", "yrs", "Jr", "Sr"}

_WORDS = sorted(set(_SPOKEN) | {"Dr", "St", "i.e", "i. e", "e.g", "e. g", "I.e", "E.g", "a.m", "p.m", "A.M", "P.M",
                                "a. m", "p. m"}, key=len, reverse=True)
# Longest alternatives first and a word boundary after: "viz" must never be read as "v" + "iz".
ABBR = re.compile(r"\b(" + "|".join(re.escape(w) for w in _WORDS) + r")\b(\.?)(?=(\s*)(.?))")
_CLOSING = re.compile(r"^[\"'”’)\]]*\s*$")
_SENTENCE_NEXT = re.compile(r"\s*[\"”’)\]]*(?:\s*$|\s+[\"“‘(]?[A-Z])")
_NUMBER_NEXT = re.compile(r"\s*(?:\d|[IVXLC]{2,}\b|[ivxlc]{2,}\b|[VXLCvxlc]\b)")
_NUMBER_BEFORE = re.compile(r"(?:\d|\d(?:st|nd|rd|th|d)|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                            r"eleven|twelve|twenty|thirty|forty|fifty|sixty|a few|several|many))\s*$", re.I)
_CAP_WORD_NEXT = re.compile(r"\s+[\"“‘'(]?[A-Z](?:[a-z]|\.\s)")  # a name or an initial ("Dr. W. C. Wells")
_SENTENCE_STARTERS = frozenset(
    "The Then He She It I We They You A An But And So Now There This That His Her My Our Their In On At When "
    "What Who Why How If As After Before".split())
_NAME_BEFORE = re.compile(r"(?:^|[^\w.])([A-Z][\w'’]*|\d+)\s+$")
_TITLE_NAME_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Sir|Lady|Lord|Dr|Rev|Capt|Master|Madame)\.?\s+[A-Z][\w'’]*"
                                r"\s+$|\b(?:Mr|Mrs|Ms|Miss|Sir|Lady|Lord|Dr|Rev|Capt)\.?\s+$")
_STREET_NEXT = re.compile(r"(?:$|\s*[,;:.)\]\"”’]|\s+[a-z])")

_FIRM_BEFORE = re.compile(r"(?:&|\band|[A-Z][\w'’]*,?)\s+$")
_ET_CETERA = re.compile(r"&\s?c\.(?=(\s*)(.?))")
BOOK_SIZES = re.compile(r"\b(4to|8vo|12mo|16mo|18mo|24mo|32mo|fo\.|fol\.)(?=\W|$)")
_SIZE_NAMES = {"4to": "quarto", "8vo": "octavo", "12mo": "duodecimo", "16mo": "sixteenmo", "18mo": "eighteenmo",
               "24mo": "twenty-fourmo", "32mo": "thirty-twomo", "fo.": "folio", "fol.": "folio"}


def _street_word(before: str, after: str, word: str) -> str | None:
    """ "Saint" / "Street" (or "Doctor" / "Drive") from the context, None when unsure."""
    saint, street = ("Saint", "Street") if word == "St" else ("Doctor", "Drive")
    cap = _CAP_WORD_NEXT.match(after)
    name_before = _NAME_BEFORE.search(before[-40:])
    titled = _TITLE_NAME_BEFORE.search(before[-40:])
    if cap:
        nxt = after.split(None, 1)[0].strip("\"“‘'(")
        if name_before and not titled and nxt in _SENTENCE_STARTERS:
            return street  # "in Baker St. Then he ..."
        return saint
    if word == "Dr" and not name_before:
        return saint  # "the Dr. said"
    if name_before and not titled and _STREET_NEXT.match(after):
        return street
    return None


def _expand(m: re.Match) -> str:
    word, period, space, nxt = m.group(1), m.group(2), m.group(3), m.group(4)
    key = re.sub(r"[.\s]", "", word).lower() if "." in word or " " in word and word != "et al" else word
    if not period and word not in _NO_PERIOD_OK:
        return m.group(0)
    if nxt.isalnum() and not space:
        return m.group(0)  # "St.John" or "Mrs.x": leave it
    before, after = m.string[:m.start()], m.string[m.end():]
    if word in ("Dr", "St"):
        if not period:
            if not (space and nxt.isupper()):
                return m.group(0)
            spoken = "Doctor" if word == "Dr" else "Saint"
        else:
            spoken = _street_word(before, after, word)
            if spoken is None:
                return m.group(0)
    elif word in _BEFORE_NUMBER and not _NUMBER_NEXT.match(after):
        if word not in _MONTHS or not _NUMBER_BEFORE.search(before[-12:]):
            return m.group(0)
        spoken = _SPOKEN[word]  # "3rd Aug."
    elif word in _TITLES and not space and nxt:
        return m.group(0)
    elif word in ("am", "pm") and not re.search(r"\d\s*$", before[-4:]):
        return m.group(0)  # "Here I am." is the verb; only "5 am" is a time
    elif word in ("yrs", "Yrs", "mos"):
        if _NUMBER_BEFORE.search(before[-12:]):
            spoken = "years" if word != "mos" else "months"
        elif word == "mos":
            return m.group(0)
        else:
            spoken = "Yours" if word == "Yrs" else "yours"  # "Yrs. truly"
    elif word in ("inst", "ult", "prox") and not _NUMBER_BEFORE.search(before[-12:]) and \
            not before.rstrip().endswith(("the", "of")):
        return m.group(0)
    elif word == "p" and before[-1:].isalpha():
        return m.group(0)
    elif word in ("Co", "Ltd", "Inc") and not _FIRM_BEFORE.search(before[-30:]):
        return m.group(0)  # "Co." is a company only after a name or "&"
    else:
        spoken = _SPOKEN.get(key) or _SPOKEN.get(key.lower())
        if spoken is None:
            return m.group(0)
    if spoken[0].islower() and word[0].isupper() and _SENTENCE_START.search(before[-6:] if before else ""):
        spoken = spoken[0].upper() + spoken[1:]  # "No. 27 was full" -> "Number twenty-seven was full"
    if period and _ends_sentence(word, key, spoken, after):
        spoken += "."
    return spoken


def _ends_sentence(word: str, key: str, spoken: str, after: str) -> bool:
    """Whether the abbreviation's period also ends the sentence (so the spoken form keeps it)."""
    if word in _TITLES or spoken in ("Saint", "Doctor"):
        return False  # "Mr." never ends a sentence
    if _CLOSING.match(after):
        return True
    return (key in _CAN_END or spoken in ("Street", "Drive")) and _SENTENCE_NEXT.match(after) is not None


def _et_cetera(m: re.Match) -> str:
    after = m.string[m.end():]
    return "et cetera." if _CLOSING.match(after) or _SENTENCE_NEXT.match(after) else "et cetera"


def expand_abbreviations(text: str) -> str:
    if "&" in text:
        text = _ET_CETERA.sub(_et_cetera, text)  # "&c." before "&" becomes "and"
    text = ABBR.sub(_expand, text)
    if "o" in text and BOOK_SIZES.search(text):
        text = BOOK_SIZES.sub(lambda m: _SIZE_NAMES[m.group(1)], text)
    return text
