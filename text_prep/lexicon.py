"""Pronunciation lexicon: the user's respellings, applied to speech text only (never to display text or spans).

File format (UTF-8, tab-separated, one entry per line; ``.tsv`` by convention)::

    # comments and blank lines are ignored
    Hermione	her-MY-oh-nee
    Mycroft	MY-kroft
    Reading	Redding
    re:\\bSt\\. John\\b	Sinjun
    re:(\\d+)mo\\b	\\1-mo

- ``word<TAB>respelling``: the word is matched whole (not inside another word; "Hermione's" matches), in the
  speech text. A word written in lower case matches any case ("colonel" also matches "Colonel"); a word with
  capitals matches exactly that case ("Reading" the town, not "reading"). When the text's word starts with a
  capital and the respelling does not, the respelling's first letter is capitalised. Words may contain
  spaces ("Don Quixote").
- ``re:PATTERN<TAB>REPLACEMENT``: a Python regular expression over the speech text and its replacement
  (``\\1`` for groups), applied after the words, in file order.

Speech text is what the narrator says after normalization ("Mr." is already "Mister", "1891" is
"eighteen ninety-one", capitals are title-cased), so entries are written against it; ``tomecast words BOOK``
lists the speech words of a book to start from.

Several files merge in order and later wins: a word or pattern defined again replaces the earlier entry, so a
per-book file given after the user's file overrides it. Because the respelled speech is what a chunk's key
hashes, changing the lexicon re-synthesizes only the chunks whose speech it changes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from text_prep.errors import InputFileError, TextPrepError

__all__ = ["USER_LEXICON", "Entry", "Lexicon", "LexiconError", "load_lexicon"]

# Where a user's own lexicon lives, read by the CLI before any per-book file (the library reads no defaults).
USER_LEXICON = Path("~/.config/tomecast/lexicon.tsv")
_REGEX_PREFIX = "re:"


class LexiconError(TextPrepError):
    """A lexicon file line that cannot be used (no tab, empty word, bad regular expression)."""


@dataclass(frozen=True)
class Entry:
    """One lexicon line: a whole word (or a regex when ``regex``) and what to say instead."""

    pattern: str
    replacement: str
    regex: bool = False
    source: str = ""  # "file:line", for error messages

    @property
    def key(self) -> tuple[bool, str]:
        """Entries with the same key replace each other when files merge (later wins)."""
        return (self.regex, self.pattern if self.regex or not self.pattern.islower() else self.pattern.casefold())


def _capitalised(found: str, replacement: str) -> str:
    if found[:1].isupper() and replacement[:1].islower():
        return replacement[0].upper() + replacement[1:]
    return replacement


@dataclass(frozen=True)
class Lexicon:
    """Merged entries, ready to apply; an empty lexicon changes nothing."""

    entries: tuple[Entry, ...] = ()

    def __post_init__(self) -> None:
        words = [e for e in self.entries if not e.regex]
        exact = {e.pattern: e.replacement for e in words if not e.pattern.islower()}
        folded = {e.pattern.casefold(): e.replacement for e in words if e.pattern.islower()}
        alternatives = sorted({e.pattern for e in words}, key=len, reverse=True)
        alternation = "|".join(re.escape(w) for w in alternatives)
        rx = (re.compile(r"(?<![\w'’-])(?:" + alternation + r")(?![\w-]|['’](?!s\b)\w)", re.IGNORECASE)
              if alternatives else None)
        patterns = tuple((re.compile(e.pattern), e.replacement) for e in self.entries if e.regex)
        object.__setattr__(self, "_words", (rx, exact, folded))
        object.__setattr__(self, "_patterns", patterns)

    def __bool__(self) -> bool:
        return bool(self.entries)

    @classmethod
    def parse(cls, text: str, source: str = "<lexicon>") -> Lexicon:
        """Entries of a lexicon file's text; ``LexiconError`` names the first bad line."""
        entries = []
        for n, line in enumerate(text.splitlines(), 1):
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            where = f"{source}:{n}"
            if "\t" not in line:
                raise LexiconError(f"{where}: expected 'word<TAB>respelling', got {line.strip()!r}")
            pattern, replacement = line.split("\t", 1)
            pattern, replacement = pattern.strip(), replacement.strip()
            regex = pattern.startswith(_REGEX_PREFIX)
            if regex:
                pattern = pattern[len(_REGEX_PREFIX):]
                try:
                    re.compile(pattern).sub(replacement, "")
                except (re.error, IndexError) as e:
                    raise LexiconError(f"{where}: bad regular expression {pattern!r}: {e}") from None
            if not pattern:
                raise LexiconError(f"{where}: empty word")
            entries.append(Entry(pattern, replacement, regex, where))
        return cls(tuple(entries))

    @classmethod
    def load(cls, path: str | Path) -> Lexicon:
        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputFileError(f"lexicon file not found: {str(p)!r}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise InputFileError(f"cannot read lexicon {str(p)!r}: {e}") from None
        return cls.parse(text, str(path))

    @classmethod
    def merge(cls, lexicons: Iterable[Lexicon]) -> Lexicon:
        """One lexicon from several, in order; an entry with the same word or pattern as an earlier one wins."""
        merged: dict[tuple[bool, str], Entry] = {}
        for lex in lexicons:
            for e in lex.entries:
                merged.pop(e.key, None)
                merged[e.key] = e
        return cls(tuple(merged.values()))

    def apply(self, speech: str) -> str:
        """``speech`` with the respellings and patterns applied."""
        if not self.entries:
            return speech
        rx, exact, folded = self._words  # type: ignore[attr-defined]
        if rx is not None:
            def word(m: re.Match) -> str:
                found = m.group(0)
                if found in exact:
                    return exact[found]
                repl = folded.get(found.casefold())
                return found if repl is None else _capitalised(found, repl)

            speech = rx.sub(word, speech)
        for pattern, repl in self._patterns:  # type: ignore[attr-defined]
            speech = pattern.sub(repl, speech)
        return speech

    def digest(self) -> str:
        """A short hash of the entries (changes whenever what the lexicon does changes)."""
        h = hashlib.sha256()
        for e in self.entries:
            h.update(f"{int(e.regex)}\t{e.pattern}\t{e.replacement}\n".encode())
        return h.hexdigest()[:16]


def load_lexicon(spec: Lexicon | str | Path | Iterable[str | Path] | None) -> Lexicon:
    """A ``Lexicon`` from ``PrepareOptions.lexicon``: a Lexicon, one path, or paths merged in order."""
    if spec is None:
        return Lexicon()
    if isinstance(spec, Lexicon):
        return spec
    if isinstance(spec, (str, Path)):
        return Lexicon.load(spec)
    return Lexicon.merge(Lexicon.load(p) if not isinstance(p, Lexicon) else p for p in spec)
