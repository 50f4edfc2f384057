"""An English word list, offline: is this a dictionary word (with its inflections)?

Source: the ``english-words`` package (pinned 2.0.2), the union of its ``web2`` (Webster's Second
International, 235k entries) and ``gcide`` (GNU Collaborative International Dictionary of English) lists, lower
case. Both are public domain and shipped inside the wheel (8 MB), so nothing is downloaded at run time; loading
takes about 0.1 s, once, on first use. web2 lists lemmas only, so inflected forms are accepted when their stem
is a word ("horses", "walked", "hurrying", "happily"), and British spellings when their American form is
("favour", "recognised", "travelled", "centre").
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["american_spelling", "is_word", "word_set"]

_SOURCES = ("web2", "gcide")
# (suffix, replacement) pairs tried in order to find a stem: "walked" -> "walk", "hurried" -> "hurry".
_SUFFIXES = (
    ("'s", ""), ("’s", ""), ("s'", ""), ("ies", "y"), ("ied", "y"), ("ier", "y"), ("iest", "y"), ("ily", "y"),
    ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""), ("ing", "e"), ("ly", ""), ("er", ""),
    ("er", "e"), ("est", ""), ("est", "e"), ("ness", ""), ("ment", ""),
)


@lru_cache(maxsize=1)
def word_set() -> frozenset[str]:
    """All lower-case entries; empty when the word list package is not installed (then nothing is a word)."""
    try:
        from english_words import get_english_words_set
    except ImportError:  # pragma: no cover - it is a dependency; degrade to "unknown" rather than fail a book
        return frozenset()
    return frozenset(get_english_words_set(list(_SOURCES), lower=True))


def _stem_known(w: str, words: frozenset[str]) -> bool:
    for suffix, repl in _SUFFIXES:
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            stem = w[: -len(suffix)] + repl
            if stem in words:
                return True
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[:-1] in words:  # "stopped", "running"
                return True
    return False


# British spelling -> American, tried when a word is not found as written (the lists are mostly American).
_BRITISH = ((re.compile(r"our(?=s?$|ed$|ing$|able$|ably$|ite$|ites$|less$|ful$|er$|ers$|hood$|hoods$)"), "or"),
            (re.compile(r"is(?=e$|es$|ed$|ing$|ation$|ations$|er$|ers$)"), "iz"),
            (re.compile(r"ys(?=e$|es$|ed$|ing$)"), "yz"),
            (re.compile(r"tre(?=s?$)"), "ter"),
            (re.compile(r"ll(?=ed$|ing$|er$|ers$)"), "l"),
            (re.compile(r"ogue$"), "og"))
_EXTRA = frozenset({"o'clock", "cetera"})


def _known(w: str, words: frozenset[str]) -> bool:
    return w in words or w in _EXTRA or _stem_known(w, words)


@lru_cache(maxsize=65536)
def is_word(token: str) -> bool:
    """True when ``token`` (any case) is an English dictionary word or a regular inflection of one."""
    w = token.lower().replace("’", "'")
    words = word_set()
    if _known(w, words):
        return True
    american = american_spelling(w)
    return american != w and _known(american, words)


def american_spelling(word: str) -> str:
    """ "favoured" -> "favored", "realise" -> "realize", "centre" -> "center" (lower case in, lower case out)."""
    for rx, repl in _BRITISH:
        word = rx.sub(repl, word)
    return word
