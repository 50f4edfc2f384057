"""Sentence spans with nltk Punkt, fully offline.

Parameters: nltk's ``punkt_tab`` English data when it is installed, else the parameters shipped in
``text_prep/resources/punkt_en.json`` (trained by ``scripts/train_punkt.py`` on public-domain books, reproducible
byte for byte). Both get the abbreviation list below. Two rules are applied on top of Punkt: a single capital
letter with a period (an initial, as in "J. R. R. Tolkien") and a title such as "Mr." or "St." never end a
sentence when a capitalised word follows; an abbreviation that stands before a number ("No.", "vol.", "pp.",
"Fig.") or an amount ("10s.", "6 lbs.") never ends one when a number follows ("An Eley's No. 2 is", "£88 10s.
6d."); a short abbreviation ("inst.", "6d.") does not end one when a lower-case word follows; a quotation
ending in "?" or "!" does not end the sentence when a lower-case word follows ('"Stop!" cried the man.'), and
neither does an exclamation ("Ha! there has been a murder", "What! where?").
"""

from __future__ import annotations

import json
import logging
import re
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # nltk is imported on first use: its package import pulls in scipy (about a second)
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

__all__ = ["ABBREVIATIONS", "TITLES", "load_parameters", "params_from_json", "params_to_json", "sentence_spans"]

log = logging.getLogger(__name__)

# Titles before a name: a sentence never ends after them when a capitalised word follows.
TITLES = ("mr", "mrs", "ms", "messrs", "mme", "mlle", "dr", "st", "prof", "rev", "revd", "capt", "col", "gen",
          "lt", "sgt", "cpl", "maj", "adm", "cmdr", "hon", "gov", "sen", "rep", "pres", "fr", "br", "sr", "jr",
          "mt", "ft", "vol", "vols", "ch", "pp", "figs", "lieut", "sergt", "serjt", "insp", "supt", "rt", "bp",
          "mons", "mdlle", "pvt")
# Other abbreviations (lower case, without the final period, inner periods kept: "i.e").
ABBREVIATIONS = TITLES + (
    "i.e", "e.g", "etc", "vs", "viz", "cf", "al", "approx", "dept", "inc", "ltd", "co", "corp", "feb",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "tues", "thur", "thurs",
    "a.m", "p.m", "u.s", "u.k", "u.s.a", "blvd", "esq", "ibid", "cit", "eds", "ca", "sq", "oz", "lb", "lbs",
    "cm", "mm", "km", "kg", "hr", "hrs", "ph.d", "b.a", "m.a", "m.d", "d.d", "ll.d", "a.d", "b.c",
)

PARAMS_RESOURCE = "punkt_en.json"
_INITIAL_END = re.compile(r"(?:^|[\s(\"'“‘])[A-Z]\.$")
_TITLE_END = re.compile(r"(?:^|[\s(\"'“‘])(" + "|".join(TITLES) + r")\.$", re.I)
_CAPITAL_START = re.compile(r"^[\"'“‘(]*[A-Z]")
_LOWER_START = re.compile(r"^[a-z]")
# Abbreviations that stand before a number, and amounts or measures that stand before another one.
NUMBER_ABBREVIATIONS = ("no", "nos", "vol", "vols", "pp", "p", "ch", "chap", "fig", "figs", "art", "arts", "sec",
                        "sect", "op", "vs", "v", "nr", "par", "para", "pl", "ed", "ps", "ver", "div", "reg", "col")
_NUMBER_ABBR_END = re.compile(r"(?:^|[\s(\"'“‘])(?:" + "|".join(NUMBER_ABBREVIATIONS) + r")\.$", re.I)
_AMOUNT_END = re.compile(r"\d[½¼¾]?\s?(?:[sdl]|ft|in|lbs?|oz|yds?|cwt|st|qrs?|gals?|doz|hrs?|mins?|yrs?)\.$")
_NUMBER_START = re.compile(r"^[(\[]?(?:\d|[½¼¾]|[IVXLC]{2,}\b|[ivxlc]{2,}\b|[IVXLCivxlc]\b(?=[.,;:)]))")
_SHORT_ABBR_END = re.compile(r"(?:^|[\s(\"'“‘])(?:[A-Za-z]{1,4}|\d+[A-Za-z]{0,3}|(?:[A-Za-z]\.)+[A-Za-z])\.$")
_END_CHAR = re.compile(r"[.?!]")
_TRAILING_END = re.compile(r"[.?!][.?!\"'”’)\]\s]*$")
_EXCLAIM_END = re.compile(r"[?!][\"'”’)]*$")


def params_to_json(params: PunktParameters) -> str:
    """Deterministic JSON of Punkt parameters (sorted everywhere)."""
    data = {
        "abbrev_types": sorted(params.abbrev_types),
        "collocations": sorted([a, b] for a, b in params.collocations),
        "sent_starters": sorted(params.sent_starters),
        "ortho_context": {k: params.ortho_context[k] for k in sorted(params.ortho_context)},
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), indent=0) + "\n"


def params_from_json(text: str) -> PunktParameters:
    from nltk.tokenize.punkt import PunktParameters

    data = json.loads(text)
    p = PunktParameters()
    p.abbrev_types = set(data["abbrev_types"])
    p.collocations = {(a, b) for a, b in data["collocations"]}
    p.sent_starters = set(data["sent_starters"])
    for k, v in data["ortho_context"].items():
        p.ortho_context[k] = v
    return p


def _installed_punkt_tab() -> PunktParameters | None:
    try:
        from nltk.tokenize.punkt import PunktTokenizer

        return PunktTokenizer("english")._params
    except (LookupError, OSError, ImportError, ValueError):
        return None


@lru_cache(maxsize=1)
def load_parameters(use_installed: bool = True) -> PunktParameters:
    """Punkt parameters (installed punkt_tab when present, else the shipped ones) plus ``ABBREVIATIONS``."""
    params = _installed_punkt_tab() if use_installed else None
    if params is not None:
        log.debug("sentences: using installed nltk punkt_tab data")
    else:
        text = resources.files("text_prep.resources").joinpath(PARAMS_RESOURCE).read_text(encoding="utf-8")
        params = params_from_json(text)
    params.abbrev_types.update(ABBREVIATIONS)
    return params


# A potential sentence end whose outcome Punkt's rules fix without any heuristic: a plain word of two or more
# letters (not an initial, not a number) ending in "." followed by a word token (or a quote that is one), or a
# word ending in "?"/"!" followed by a word token.
_PLAIN_PERIOD = re.compile(r"([A-Za-z]{2,})\.(?:\s+\S*[A-Za-z0-9]\S*|[\u2018\u2019\u201c\u201d\xab\xbb'])")
_PLAIN_MARK = re.compile(r"[A-Za-z]+[?!]\s+\S*[A-Za-z0-9]\S*")


def _fast_punkt_class():
    from nltk.tokenize.punkt import PunktSentenceTokenizer

    class FastPunkt(PunktSentenceTokenizer):
        """Punkt with a shortcut for the commonest candidate, decided exactly as Punkt decides it.

        Punkt's first pass marks "word." as a sentence break unless the word is a known abbreviation; its
        second pass changes that only for collocations, abbreviations, ellipses, initials and numbers. So
        for a plain word that is none of these, followed by another token, the answer is "break" without
        tokenising the context (the costly part of Punkt); every other candidate goes to Punkt itself.
        """

        def __init__(self, params):
            super().__init__(params)
            self._colloc_first = {a for a, _ in params.collocations}

        def text_contains_sentbreak(self, text: str) -> bool:
            m = _PLAIN_PERIOD.fullmatch(text)
            if m:
                word = m.group(1).lower()
                if word not in self._params.abbrev_types and word not in self._colloc_first:
                    return True
            elif _PLAIN_MARK.fullmatch(text):
                return True
            return super().text_contains_sentbreak(text)

    return FastPunkt


@lru_cache(maxsize=2)
def _tokenizer(use_installed: bool = True) -> PunktSentenceTokenizer:
    return _fast_punkt_class()(load_parameters(use_installed))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text[start:end]`` (absolute offsets into ``text``), in order."""
    end = len(text) if end is None else end
    last = _TRAILING_END.search(text, start, end)
    if not _END_CHAR.search(text, start, last.start() if last else end):
        # Punkt splits only after . ? or !; with none before the end, the whole piece is one sentence.
        stripped = text[start:end]
        a = start + len(stripped) - len(stripped.lstrip())
        b = start + len(stripped.rstrip())
        return [(a, b)] if b > a else []
    piece = text[start:end]
    spans = [(a + start, b + start) for a, b in _tokenizer().span_tokenize(piece)]
    if len(spans) < 2:
        return spans
    out = [spans[0]]
    for a, b in spans[1:]:
        pa, pb = out[-1]
        prev_tail = text[max(pa, pb - 12):pb]
        head = text[a:a + 4]
        capital = _CAPITAL_START.match(head)
        if capital and (_INITIAL_END.search(prev_tail) or _TITLE_END.search(prev_tail)):
            out[-1] = (pa, b)
        elif _NUMBER_START.match(head) and (_NUMBER_ABBR_END.search(prev_tail) or _AMOUNT_END.search(prev_tail)):
            out[-1] = (pa, b)  # "An Eley's No." + "2 is", "£88 10s." + "6d."
        elif _LOWER_START.match(head) and _SHORT_ABBR_END.search(prev_tail):
            out[-1] = (pa, b)  # "the 3rd inst." + "was a Monday"
        elif _LOWER_START.match(text[a:a + 3]) and _EXCLAIM_END.search(prev_tail):
            out[-1] = (pa, b)  # '"Stop!" cried the man.
        else:
            out.append((a, b))
    return out
