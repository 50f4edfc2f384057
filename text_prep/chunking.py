"""Chunks of a section: whole sentences packed up to ``max_chars``, never across a paragraph.

A sentence longer than ``max_chars`` is split by ``split_long`` into the fewest pieces that fit, cut where a
narrator would pause (semicolon, colon, dash, closing bracket, comma, before a conjunction, then any space) and
balanced in length: a search over the cut points weighs the strength of each cut against how far the pieces
are from equal, and a piece under a third of the limit costs more than any weaker cut that avoids it (no
orphan tails). A single "word" longer than the limit is cut at the limit. A chunk whose speech text outgrows
``SPEECH_MAX`` (numbers spelled out) is halved until it fits. A piece with nothing to say (a lone quote,
``* * *``) is merged into the chunk before it (or after it, at the start of a section), so no chunk is empty or
punctuation-only. Spans are offsets into the section text; everything between consecutive spans is whitespace.
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

# Longest speech text of a chunk: about 40 s of narration, the model's 1000 speech-token cap. Display text
# is limited by max_chars; speech can be much longer ("1,234,567" or a table of figures), so it is checked too.
SPEECH_MAX = 600


@dataclass
class Piece:
    start: int
    end: int
    speech: str
    pause: Pause


# Cut points inside a sentence, strongest first: what a narrator would pause at. Weights are costs.
_CUTS = re.compile(r"(;)(?=\s)|(:)(?=\s)|(\s[-–—]\s|—|--|–(?=\s))|([)\]])(?=\s)|(,)(?=\s)")
_CUT_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0)  # semicolon, colon, dash, closing bracket, comma
_WORD_WEIGHT = 12.0
_CONJUNCTION = re.compile(r"\s(?=(?:and|but|or|nor|for|yet|so|which|who|whom|whose|that|where|when|while|"
                          r"because|although|though|if|unless|until|as)\b)")
_CONJUNCTION_WEIGHT = 8.0
_FORCED_WEIGHT = 100.0
_SHORT_PENALTY = 40.0  # a piece under a third of the limit
# Sentences longer than this many limits are first cut greedily into blocks (keeps the search linear).
_BLOCK_LIMITS = 24


def _candidates(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int, float]]:
    """(end of a piece, start of the next, cost) for the places ``text[a:b]`` may be cut, in order: every
    punctuation and conjunction cut, and spaces at least ``max_chars / 16`` apart (finer steps change the
    balance by too little to matter and make the search slower)."""
    found: dict[int, tuple[int, float]] = {}

    def add(end: int, weight: float) -> None:
        nxt = end
        while nxt < b and text[nxt].isspace():
            nxt += 1
        while end > a and text[end - 1].isspace():
            end -= 1
        if a < end and nxt < b and (end not in found or found[end][1] > weight):
            found[end] = (nxt, weight)

    for m in re.finditer(r"\s+", text[a:b]):
        add(a + m.start(), _WORD_WEIGHT)
    for m in _CONJUNCTION.finditer(text, a, b):
        add(m.start(), _CONJUNCTION_WEIGHT)
    for m in _CUTS.finditer(text, a, b):
        kind = next(i for i in range(5) if m.group(i + 1) is not None)
        add(m.end() if kind != 2 or not m.group(3)[0].isspace() else m.end(), _CUT_WEIGHTS[kind])
    out: list[tuple[int, int, float]] = []
    step, last = max(1, max_chars // 16), a
    for end, (nxt, w) in sorted(found.items()):
        if w == _WORD_WEIGHT and end - last < step:
            continue
        out.append((end, nxt, w))
        last = end
    return out


def _with_forced(cands: list[tuple[int, int, float]], a: int, b: int,
                 max_chars: int) -> list[tuple[int, int, float]]:
    """Hard cuts every ``max_chars`` inside stretches with no cut point (a "word" longer than the limit)."""
    out: list[tuple[int, int, float]] = []
    prev = a
    for c in [*cands, (b, b, 0.0)]:
        while c[0] - prev > max_chars:
            prev += max_chars
            out.append((prev, prev, _FORCED_WEIGHT))
        if c[0] < b:
            out.append(c)
        prev = c[1]
    return out


def _balanced(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Fewest pieces of at most ``max_chars``; among those, cuts at the strongest boundaries with pieces of
    similar length (no piece under a third of the limit while another cut avoids it)."""
    cands = _with_forced(_candidates(text, a, b, max_chars), a, b, max_chars)
    n_min = -(-(b - a) // max_chars)
    target = (b - a) / n_min
    third = max_chars / 3

    def piece_cost(length: int) -> float:
        cost = 3.0 * ((length - target) / max_chars) ** 2
        return cost + _SHORT_PENALTY * (1 - length / third) if length < third else cost

    # best[j]: (pieces, cost, previous index) of the best cutting of text[a:cands[j].end]; -1 is the start.
    starts = [a] + [nxt for _, nxt, _ in cands]
    best: list[tuple[int, float, int]] = []
    lo = 0
    for j, (end, _, weight) in enumerate(cands):
        while starts[lo] < end - max_chars:
            lo += 1
        choice = None
        for i in range(lo, j + 1):  # piece starts at starts[i] (i == 0: the sentence start)
            if i > 0 and best[i - 1][0] < 0:
                continue
            prev = (0, 0.0) if i == 0 else best[i - 1][:2]
            option = (prev[0] + 1, prev[1] + weight + piece_cost(end - starts[i]), i - 1)
            if choice is None or option[:2] < choice[:2]:
                choice = option
        best.append(choice if choice is not None else (-1, 0.0, -1))
    final = None
    for i in range(len(starts)):
        if b - starts[i] <= max_chars and (i == 0 or best[i - 1][0] >= 0):
            prev = (0, 0.0) if i == 0 else best[i - 1][:2]
            option = (prev[0] + 1, prev[1] + piece_cost(b - starts[i]), i - 1)
            if final is None or option[:2] < final[:2]:
                final = option
    assert final is not None  # forced cuts make every stretch short enough
    spans: list[tuple[int, int]] = []
    end, k = b, final[2]
    while k >= 0:
        spans.append((cands[k][1], end))
        end = cands[k][0]
        k = best[k][2]
    spans.append((a, end))
    return spans[::-1]


def split_long(text: str, a: int, b: int, max_chars: int) -> list[tuple[int, int]]:
    """Spans covering ``text[a:b]`` (whitespace trimmed at cuts), none longer than ``max_chars``: the fewest
    pieces, cut at the strongest boundaries (semicolon, colon, dash, bracket, comma, before a conjunction, a
    space), balanced in length."""
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b - a <= max_chars:
        return [(a, b)] if b > a else []
    block = max_chars * _BLOCK_LIMITS
    out: list[tuple[int, int]] = []
    while b - a > block:  # a giant run-on: blocks of whole pieces, each cut at its last space
        cut = text.rfind(" ", a, a + block)
        cut = cut if cut > a + block // 2 else a + block
        out += _balanced(text, a, cut, max_chars)
        a = cut
        while a < b and text[a].isspace():
            a += 1
    return out + _balanced(text, a, b, max_chars)


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
