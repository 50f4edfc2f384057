"""``book_words(book)``: the words a producer may want in the pronunciation lexicon, with counts.

Every word of the book's speech text (what the lexicon is matched against, see ``text_prep.lexicon``) is
counted and sorted into one of three kinds; common dictionary words are left out:

- ``name``: written with a capital in (nearly) every occurrence, at least once where a sentence does not
  start, and never in lower case: people, places, ships ("Holmes", "Tarbaby", "Cheapside").
- ``unknown``: not in the dictionary (``normalize.dictionary``: Webster's Second and GCIDE, with
  inflections): dialect, coinages, foreign words, misspellings ("befo'", "mawnin'", "Bonaparte's").
- ``rare``: in the dictionary but rare in present-day English, by the frequency list of ``pyspellchecker``
  (pinned 0.9.1; about 160,000 words counted over a large body of modern text, shipped in the wheel): fewer
  than ``RARE_BELOW`` occurrences ("insuperable", "skein"). Its floor count, 50, marks words it lists but did
  not observe; those are called rare when long and not a compound of two common words ("quarto" is not
  listed as rare, "afternoon" neither; "protectingly" is).

Contractions of known words ("don't", "I'll", "he'd") are not listed; a word the frequency list knows well
counts as a dictionary word even where the word lists miss it ("began").

Sorted by kind (names, unknown, rare), then by count (most frequent first), then alphabetically.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from text_prep.normalize.dictionary import american_spelling, is_word
from text_prep.types import Book, PrepareOptions

__all__ = ["KINDS", "RARE_BELOW", "book_words", "lexicon_template", "speech_words", "words_tsv"]

KINDS = ("name", "unknown", "rare")
RARE_BELOW = 100
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*['’]?")
_SENTENCE_START = re.compile(r"(?:^|[.!?…:;]['\"”’)]*\s+|[\"“‘(]\s*)$")
_POSSESSIVE = re.compile(r"['’]s$")


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, int]:
    try:
        from spellchecker import SpellChecker
    except ImportError:  # pragma: no cover - a dependency; without it no word is called rare
        return {}
    return dict(SpellChecker(language="en", distance=1).word_frequency.dictionary)


def speech_words(speech: str) -> list[tuple[str, bool]]:
    """(word, starts a sentence) for each word of a speech text; possessive "'s" is dropped."""
    out = []
    for m in _WORD.finditer(speech):
        w = _POSSESSIVE.sub("", m.group(0))
        if len(w) > 1 and w[-1] in "'’" and (w[-2] != "n" or is_word(w[:-1])):
            w = w[:-1]  # a closing quote ("again’"), not a dropped g ("mawnin’")
        out.append((w, _SENTENCE_START.search(speech, 0, m.start()) is not None))
    return out


_CONTRACTION = re.compile(r"^(.+?)(n['’]t|['’](?:ll|m|d|re|ve|s))$", re.I)
_FLOOR = 50  # pyspellchecker's count for a word it lists but never saw
_COMMON = 1000
# Titles that normalization writes out ("Mr." -> "Mister"): capitalised everywhere, but not names.
_SPOKEN_TITLES = frozenset("Mister Missus Miz Messieurs Doctor Saint Professor Reverend Esquire".split())


def _known(word: str, freq: dict[str, int]) -> bool:
    w = word.lower()
    return is_word(w) or freq.get(w, 0) >= RARE_BELOW


def _rare(word: str, freq: dict[str, int]) -> bool:
    w = word.lower().replace("’", "'")
    n = max(freq.get(w, 0), freq.get(american_spelling(w), 0))
    if n >= RARE_BELOW or len(w) < 4:
        return False
    if n > _FLOOR:
        return True
    if len(w) < 8:
        return False
    return not any(freq.get(w[:i], 0) >= _COMMON and freq.get(w[i:], 0) >= _COMMON for i in range(3, len(w) - 2))


def _kind(forms: Counter, inner_caps: int, freq: dict[str, int]) -> str | None:
    lower = sum(n for f, n in forms.items() if f[0].islower())
    word = max(forms, key=lambda f: (f[0].islower(), forms[f]))  # the lower-case form when there is one
    m = _CONTRACTION.match(word)
    if m and (m.group(1).lower() in ("i", "ca", "wo", "sha", "ai") or _known(m.group(1), freq)):
        return None
    if lower == 0 and inner_caps > 0 and not word.isupper():
        return None if word in _SPOKEN_TITLES else "name"
    parts = [p for p in word.split("-") if p]
    if not all(_known(p, freq) for p in parts):
        return "unknown"
    if freq and all(_rare(p, freq) for p in parts):
        return "rare"
    return None


def book_words(book: Book | str | Path, options: PrepareOptions | None = None) -> list[tuple[str, int, str]]:
    """(word, count, kind) for the names, non-dictionary words and rare words of a prepared book (or of the
    manuscript at a path, prepared with ``options``)."""
    if not isinstance(book, Book):
        from text_prep.prepare import prepare  # a path: prepare it first (prepare imports this module's peers)

        book = prepare(book, options)
    forms: dict[str, Counter] = {}
    inner_caps: Counter = Counter()
    for chunk in book.chunks:
        for w, start in speech_words(chunk.speech):
            key = w.casefold().replace("’", "'")
            forms.setdefault(key, Counter())[w] += 1
            if w[0].isupper() and not start:
                inner_caps[key] += 1
    freq = _frequencies()
    out = []
    for key, fs in forms.items():
        if len(key) < 2:
            continue
        kind = _kind(fs, inner_caps[key], freq)
        if kind is not None:
            shown = max(fs, key=lambda f: (fs[f], f))
            out.append((shown, sum(fs.values()), kind))
    order = {k: i for i, k in enumerate(KINDS)}
    out.sort(key=lambda t: (order[t[2]], -t[1], t[0].casefold()))
    return out


def words_tsv(rows: list[tuple[str, int, str]]) -> str:
    """``book_words`` as tab-separated lines under a header: ``word<TAB>count<TAB>kind``."""
    return "word\tcount\tkind\n" + "".join(f"{w}\t{n}\t{k}\n" for w, n, k in rows)


def lexicon_template(rows: list[tuple[str, int, str]]) -> str:
    """A lexicon file to fill in, every word as a commented entry ("# Tarbaby<TAB>Tarbaby"), in ``book_words``
    order: the producer uncomments a line and writes the respelling after the tab."""
    head = "# Pronunciation lexicon (see text_prep.lexicon): uncomment a line and write the respelling after the tab.\n"
    return head + "".join(f"# {w}\t{w}\n" for w, _, _ in rows)
