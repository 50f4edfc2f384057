"""Chunks of a section: whole sentences packed up to ``max_chars``, never across a paragraph.

A sentence longer than ``max_chars`` is cut at clause punctuation, then at a word boundary, then (a single
"word" longer than the limit) at the limit. A chunk whose speech text outgrows ``SPEECH_MAX`` (numbers
spelled out) is halved at word boundaries until it fits. A piece with nothing to say (a lone quote, ``* * *``) is merged
into the chunk before it (or after it, at the start of a section), so no chunk is empty or punctuation-only.
Spans are offsets into the section text; everything between consecutive spans is whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from text_prep.chapters import paragraph_spans
from text_prep.normalize import heading_speech, speech_text
from text_prep.sentences import sentence_spans
from text_prep.types import Pause

__all__ = ["SPEECH_MAX", "Piece", "chunk_section", "split_long"]

_CLAUSE = re.compile(r"[,;:)\]—–](?=\s)|\s[-–—]\s|—|--")
# Longest speech text of a chunk: about 40 s of narration, the model's 1000 speech-token cap. Display text
# is limited by max_chars; speech can be much longer ("1,234,567" or a table of figures), so it is checked too.
SPEECH_MAX = 600


@dataclass
class Piece:
    start: int
    end: int
    speech: str
    pause: Pause


def split_long(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans covering ``text[a:b]`` (whitespace trimmed at cuts), none longer than ``max_chars``."""
    out: list[tuple[int, int]] = []
    pos = a
    while b - pos > max_chars:
        limit = pos + max_chars
        window = text[pos:limit + 1]
        cut = -1
        for m in _CLAUSE.finditer(window):
            if m.end() >= max_chars // 4 and pos + m.end() <= limit:
                cut = pos + m.end()
        if cut < 0:
            ws = max(window.rfind(" ", 1), window.rfind("\n", 1), window.rfind("\t", 1))
            cut = pos + ws if ws > 0 else limit
        end = cut
        while end > pos and text[end - 1].isspace():
            end -= 1
        if end <= pos:
            end = cut = limit
        out.append((pos, end))
        pos = cut
        while pos < b and text[pos].isspace():
            pos += 1
    if pos < b:
        out.append((pos, b))
    return out


def _fit_speech(text: str, a: int, b: int, speak: Callable[[str, str], str],
               language: str) -> list[tuple[int, int, str]]:
    """The span with its speech, halved at word boundaries while the speech exceeds ``SPEECH_MAX``."""
    speech = speak(text[a:b], language)
    if len(speech) <= SPEECH_MAX or b - a < 2:
        return [(a, b, speech)]
    halves = split_long(text, a, b, (b - a + 1) // 2)
    if len(halves) < 2:
        return [(a, b, speech)]
    return [part for ha, hb in halves for part in _fit_speech(text, ha, hb, speak, language)]


def chunk_section(text: str, headings: tuple[tuple[int, int], ...], max_chars: int,
                  language: str = "en") -> list[Piece]:
    """Pieces of ``text`` in order: inner headings as their own pieces (pause TITLE), paragraphs packed."""
    pieces: list[Piece] = []
    pending_start: int | None = None  # start of unspeakable text waiting for the next piece
    head_starts = {a: b for a, b in headings}
    pars = paragraph_spans(text)
    speak: Callable[[str, str], str] = speech_text

    def emit(a: int, b: int, speech: str, pause: Pause) -> None:
        nonlocal pending_start
        if not speech:
            if pieces:
                last = pieces[-1]
                last.end = b
                if pause != Pause.SENTENCE and last.pause == Pause.SENTENCE:
                    last.pause = pause
            elif pending_start is None:
                pending_start = a
            return
        if pending_start is not None:
            a = pending_start
            pending_start = None
        pieces.append(Piece(a, b, speech, pause))

    i = 0
    while i < len(pars):
        a, b = pars[i]
        if a in head_starts:
            end = head_starts[a]
            while i + 1 < len(pars) and pars[i + 1][1] <= end:
                i += 1
            emit(a, max(b, end), heading_speech(text[a:max(b, end)], language), Pause.TITLE)
            i += 1
            continue
        spans: list[tuple[int, int]] = []
        for sa, sb in sentence_spans(text, a, b):
            spans += split_long(text, sa, sb, max_chars) if sb - sa > max_chars else [(sa, sb)]
        packed: list[list[int]] = []
        for sa, sb in spans:
            if packed and sb - packed[-1][0] <= max_chars:
                packed[-1][1] = sb
            else:
                packed.append([sa, sb])
        for k, (pa, pb) in enumerate(packed):
            last = k == len(packed) - 1
            parts = _fit_speech(text, pa, pb, speak, language)
            for m, (qa, qb, speech) in enumerate(parts):
                pause = Pause.PARAGRAPH if last and m == len(parts) - 1 else Pause.SENTENCE
                emit(qa, qb, speech, pause)
        i += 1
    if pieces:
        pieces[-1].pause = Pause.CHAPTER
    return pieces
