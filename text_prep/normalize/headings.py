"""``heading_speech``: a chapter heading as the narrator announces it."""

from __future__ import annotations

import re

from text_prep.normalize.casing import mostly_caps, title_case_caps
from text_prep.normalize.roman import LABEL_ROMAN, label_roman, roman_to_int
from text_prep.normalize.speech import is_speakable, speech_text
from text_prep.normalize.spell import num_lang, words

__all__ = ["heading_speech"]

_ALONE_ROMAN = re.compile(r"^\s*([IVXLCDM]+)\.?\s*$")


def heading_speech(title: str, language: str = "en") -> str:
    """Speech for a heading: a lone roman numeral becomes a number, capitals become title case, ends with '.'."""
    lang = num_lang(language)
    m = _ALONE_ROMAN.match(title)
    if m and roman_to_int(m.group(1)) is not None:
        s = words(roman_to_int(m.group(1)), lang).capitalize()
    else:
        s = speech_text(LABEL_ROMAN.sub(lambda m: label_roman(m, lang), title), language)
        if mostly_caps(title):
            s = title_case_caps(s)
    if s and s[-1] not in ".!?":
        s = s.rstrip(",;:—-") + "."
    return s if is_speakable(s) else ""
