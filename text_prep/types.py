"""The plan of a book: small frozen dataclasses and their deterministic JSON form.

A ``Book`` holds ``Chapter``s; a chapter holds its source ``text`` and ordered ``Chunk``s.

Lossless invariant (checked by tests on every corpus book): in each chapter, the chunks with a non-empty
``span`` appear in source order, ``chunk.text == chapter.text[start:end]`` for each of them, spans do not
overlap, and everything of ``chapter.text`` outside the spans is whitespace. So nothing is dropped or
duplicated. Chunks with an empty span (``start == end``) are spoken additions that are not in the chapter
text: the book's opening (title and author) and a chapter's title (the heading is kept out of ``text``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from text_prep.errors import TextPrepError
from text_prep.lexicon import Lexicon
from text_prep.tags import TagsPolicy

__all__ = ["Book", "Chapter", "Chunk", "Cover", "DirectionsPolicy", "HeadingNumbers", "NotesPolicy", "Pause",
           "PrepareOptions", "SpeakersPolicy", "TablesPolicy", "speech_key"]

# Bumped whenever the JSON layout changes incompatibly.
PLAN_FORMAT = 1


class Pause(StrEnum):
    """The pause that follows a chunk when the audio is stitched."""

    SENTENCE = "sentence"
    PARAGRAPH = "paragraph"
    CHAPTER = "chapter"
    TITLE = "title"
    LINE = "line"  # end of a verse line: shorter than a sentence pause
    SCENE = "scene"  # a scene break (* * *, ⁂, <hr/>): longer than a paragraph pause, nothing spoken


def speech_key(speech: str) -> str:
    """Content key of a chunk: the first 16 hex digits of sha256 over its UTF-8 speech text."""
    return hashlib.sha256(speech.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Chunk:
    """One synthesis unit: ``text`` as written, ``speech`` as it will be spoken."""

    index: int
    text: str
    speech: str
    span: tuple[int, int]
    pause: Pause
    key: str
    pause_ms: int = 0  # a pause written in the source ("[pause 2s]"): its length overrides the kind's; 0: none

    @classmethod
    def make(cls, index: int, text: str, speech: str, span: tuple[int, int], pause: Pause,
             pause_ms: int = 0) -> Chunk:
        return cls(index, text, speech, span, pause if isinstance(pause, Pause) else Pause(pause), speech_key(speech),
                   pause_ms)


@dataclass(frozen=True)
class Chapter:
    """A chapter (or section, or spine item): its title, chunks and the file or spine item it came from.

    ``text`` is the chapter's body as extracted from the source (heading excluded); spans index into it.
    """

    index: int
    title: str
    chunks: tuple[Chunk, ...]
    source: str
    text: str = ""

    @property
    def words(self) -> int:
        return len(self.text.split())

    def lossless_violation(self) -> str | None:
        """None when the chunks cover ``text`` losslessly (see the module docstring), else what is wrong."""
        pos = 0
        for c in self.chunks:
            a, b = c.span
            if a == b:
                if a < pos:
                    return f"chunk {c.index}: empty span {c.span} before position {pos}"
                continue
            if not (pos <= a < b <= len(self.text)):
                return f"chunk {c.index}: span {c.span} out of order or out of range (at {pos})"
            if self.text[pos:a].strip():
                return f"chunk {c.index}: text dropped before it: {self.text[pos:a][:60]!r}"
            if self.text[a:b] != c.text:
                return f"chunk {c.index}: text differs from its span"
            pos = b
        if self.text[pos:].strip():
            return f"text dropped at the end: {self.text[pos:][:60]!r}"
        return None


@dataclass(frozen=True)
class Cover:
    """Cover image bytes and their media type (e.g. ``image/jpeg``)."""

    data: bytes
    media_type: str


@dataclass(frozen=True)
class Book:
    """A prepared book. ``skipped`` names the front/back matter left out (spine items or sections)."""

    title: str
    author: str
    language: str
    chapters: tuple[Chapter, ...]
    skipped: tuple[str, ...] = ()
    cover: Cover | None = None

    @property
    def chunks(self) -> tuple[Chunk, ...]:
        return tuple(c for ch in self.chapters for c in ch.chunks)

    @property
    def words(self) -> int:
        return sum(ch.words for ch in self.chapters)

    def to_dict(self) -> dict:
        return {
            "format": PLAN_FORMAT,
            "title": self.title,
            "author": self.author,
            "language": self.language,
            "cover": None if self.cover is None else {"media_type": self.cover.media_type},
            "skipped": list(self.skipped),
            "chapters": [
                {
                    "index": ch.index,
                    "title": ch.title,
                    "source": ch.source,
                    "text": ch.text,
                    "chunks": [
                        {"index": c.index, "text": c.text, "speech": c.speech, "span": list(c.span),
                         "pause": str(c.pause), "key": c.key, **({"pause_ms": c.pause_ms} if c.pause_ms else {})}
                        for c in ch.chunks
                    ],
                }
                for ch in self.chapters
            ],
        }

    def to_json(self, indent: int | None = None) -> str:
        """Deterministic JSON: same book, same bytes (keys in a fixed order, no floats, UTF-8 kept)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def write_json(self, fp: TextIO, indent: int | None = None) -> None:
        """``to_json`` written piece by piece to a text stream (no whole-plan string in memory)."""
        json.dump(self.to_dict(), fp, ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, d: dict) -> Book:
        chapters = tuple(
            Chapter(
                index=ch["index"],
                title=ch["title"],
                source=ch["source"],
                text=ch.get("text", ""),
                chunks=tuple(
                    Chunk(c["index"], c["text"], c["speech"], (c["span"][0], c["span"][1]), Pause(c["pause"]),
                          c["key"], c.get("pause_ms", 0))
                    for c in ch["chunks"]
                ),
            )
            for ch in d["chapters"]
        )
        return cls(d["title"], d["author"], d["language"], chapters, tuple(d.get("skipped", ())), None)

    @classmethod
    def from_json(cls, s: str) -> Book:
        """Inverse of ``to_json``; the cover is not in the JSON, so it comes back as None."""
        return cls.from_dict(json.loads(s))


class NotesPolicy(StrEnum):
    """Footnotes and endnotes: never read inline; skipped, or read at the end of the chapter that cites them."""

    SKIP = "skip"
    CHAPTER_END = "chapter-end"


class TablesPolicy(StrEnum):
    """Tables: skipped (noted in ``skipped``) or read row by row, cells joined."""

    SKIP = "skip"
    ROWS = "rows"


class SpeakersPolicy(StrEnum):
    """Speaker names in plays: attached to their line ("Hamlet: A little more than kin") or dropped."""

    ATTACH = "attach"
    DROP = "drop"


class DirectionsPolicy(StrEnum):
    """Stage directions in plays: their own short chunks, or skipped."""

    SEPARATE = "separate"
    SKIP = "skip"


class HeadingNumbers(StrEnum):
    """Numbered chapter headings: "Chapter two: The Meeting" (label) or "Two. The Meeting" (bare)."""

    LABEL = "label"
    BARE = "bare"


_POLICIES = {"notes": NotesPolicy, "tables": TablesPolicy, "speakers": SpeakersPolicy,
             "stage_directions": DirectionsPolicy, "heading_numbers": HeadingNumbers, "tags": TagsPolicy}


@dataclass(frozen=True)
class PrepareOptions:
    """How a manuscript becomes a plan.

    max_chars: longest chunk (display characters); whole sentences are packed up to it.
    speak_title: open the book with a spoken "Title, by Author." chunk.
    speak_chapter_titles: start each chapter with its title as its own chunk.
    include_front_matter: keep front/back matter (copyright, colophon, contents, what follows THE END...)
        instead of skipping it.
    language: override the language from the metadata (BCP 47 tag, e.g. "en").
    notes: footnotes/endnotes, ``NotesPolicy`` ("skip" or "chapter-end").
    tables: ``TablesPolicy`` ("skip" or "rows").
    speakers: speaker names in plays, ``SpeakersPolicy`` ("attach" or "drop").
    stage_directions: ``DirectionsPolicy`` ("separate" or "skip").
    heading_numbers: ``HeadingNumbers`` ("label": "Chapter two: Title"; "bare": "Two. Title").
    verse_lines: end each verse line with a short pause (``Pause.LINE``) instead of running lines together.
    lexicon: pronunciation lexicon files (paths, merged in order, later wins) or a parsed
        ``text_prep.lexicon.Lexicon``; applied to speech text only, so it changes the keys of exactly the
        chunks whose speech it changes. See ``text_prep.lexicon`` for the file format.
    tags: Turbo's paralinguistic tags ("[laugh]", "[sigh]"), ``TagsPolicy``: "strip" removes them from the speech
        text, "keep" passes them verbatim (for a Turbo model only). See ``text_prep.tags``.

    Policy fields accept their enum or its string value; anything else raises ``TextPrepError``.
    """

    max_chars: int = 300
    speak_title: bool = True
    speak_chapter_titles: bool = True
    include_front_matter: bool = False
    language: str | None = None
    notes: NotesPolicy = NotesPolicy.SKIP
    tables: TablesPolicy = TablesPolicy.SKIP
    speakers: SpeakersPolicy = SpeakersPolicy.ATTACH
    stage_directions: DirectionsPolicy = DirectionsPolicy.SEPARATE
    heading_numbers: HeadingNumbers = HeadingNumbers.LABEL
    verse_lines: bool = True
    lexicon: tuple[str, ...] | Lexicon = ()
    tags: TagsPolicy = TagsPolicy.STRIP

    def __post_init__(self) -> None:
        if isinstance(self.lexicon, (str, Path)):
            object.__setattr__(self, "lexicon", (str(self.lexicon),))
        elif not isinstance(self.lexicon, Lexicon):
            object.__setattr__(self, "lexicon", tuple(str(p) for p in self.lexicon))
        for name, kind in _POLICIES.items():
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, kind(value))
            except ValueError:
                allowed = ", ".join(str(v) for v in kind)
                raise TextPrepError(f"{name} must be one of {allowed}, got {value!r}") from None

    def replace(self, **changes) -> PrepareOptions:
        return dataclasses.replace(self, **changes)
