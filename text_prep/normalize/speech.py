"""``speech_text``: the whole normalization pipeline for a piece of display text, in order."""

from __future__ import annotations

import re

from text_prep.normalize.abbreviations import expand_abbreviations
from text_prep.normalize.casing import title_case_shouted
from text_prep.normalize.cleanup import strip_marks
from text_prep.normalize.measures import expand_ditto, expand_units
from text_prep.normalize.money import spell_money
from text_prep.normalize.numbers import spell_numbers
from text_prep.normalize.roman import LABEL_ROMAN, REGNAL, TITLED_REGNAL, label_roman, regnal, titled_regnal
from text_prep.normalize.spell import num_lang
from text_prep.normalize.symbols import NUMBER_SYMBOL_CHARS, SYMBOL_CHARS, say_number_symbols, say_symbols

__all__ = ["is_speakable", "speech_text"]

_SPACES = re.compile(r"\s+")
_DROP = str.maketrans({c: " " for c in "_*©®™¶†‡|~^`<>{}[]\\=#"})
_WORD_CHAR = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")
_FRACTION_CHARS = frozenset("½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒")


def is_speakable(speech: str) -> bool:
    return _WORD_CHAR.search(speech) is not None


def speech_text(text: str, language: str = "en") -> str:
    """Speech for display text (a sentence or several); '' when there is nothing to say."""
    lang = num_lang(language)
    english = lang.startswith("en")
    s = strip_marks(text)
    s = LABEL_ROMAN.sub(lambda m: label_roman(m, lang), s)
    has_digits = _DIGIT.search(s) is not None or not _FRACTION_CHARS.isdisjoint(s)
    if english:
        s = REGNAL.sub(regnal, s)
        s = TITLED_REGNAL.sub(titled_regnal, s)
        s = expand_abbreviations(s)
        if has_digits:
            s = expand_units(s)
        if "o." in s:
            s = expand_ditto(s)
        elif " in." in s or " ft." in s:
            s = expand_units(s)  # "five ft. seven in."
    chars = frozenset(s)
    if has_digits or "√" in chars:
        if chars & NUMBER_SYMBOL_CHARS:
            s = say_number_symbols(s)
        s = spell_money(s, lang) if english or chars & {"$", "£", "€", "¥"} else s
        s = spell_numbers(s, lang)
    if chars & SYMBOL_CHARS:
        s = say_symbols(s)
    s = _SPACES.sub(" ", s.translate(_DROP)).strip()
    if english:
        s = title_case_shouted(s)
    return s if is_speakable(s) else ""
