"""The pieces of a section, paragraph kind by kind: prose goes to ``chunking``; the rest is laid out here.

Paragraph kinds (the first that fits):

- heading: a span in ``Section.headings``; one piece, ``heading_speech``, pause TITLE.
- scene break: ``* * *``, ``⁂``, a rule of dashes (an HTML ``<hr/>`` is read as ``* * *``); nothing is
  spoken and the piece before it ends with ``Pause.SCENE``.
- pause mark: a line that is only ``[pause 2s]`` or ``<break time="1500ms"/>``; nothing is spoken and the
  piece before it carries ``pause_ms``. A line of stars inside a paragraph is a scene break too.
- editorial note: a bracket that names a thing of the printed page instead of words (``[Illustration: ...]``,
  ``[Music notation]``, ``[Music]``, ``[Transcriber's Note: ...]``, ``[Greek]``, ``[Sketch]``): not spoken,
  as a paragraph of its own or inside prose: one rule for every editorial bracket. Other brackets are the
  author's words (``[Thus far written at Passy, 1784.]``) and are read.
- table (plain text: most lines hold columns apart by runs of spaces; markdown ``| a | b |`` rows): read row
  by row, or skipped and reported, as ``tables.read_rows`` decides.
- verse: lines kept apart: in markup every line break (``<br/>``, Standard Ebooks poems and verse); in plain
  text a paragraph of short lines. Each line is a piece ending in ``Pause.LINE``, the last in PARAGRAPH.
- label (plain text): a paragraph that is only a name or word in capitals: a play's speaker (``HAMLET.``,
  names repeat) joins the speech after it ("Hamlet: A little more than kin") or is dropped
  (``SpeakersPolicy.DROP``); a dictionary's headword (many of them) joins its definition. Never a chunk alone.
  In a play a paragraph that is a stage direction (``[_Exit._]``, ``Enter Horatio.``) is its own chunk, or
  silent (``DirectionsPolicy.SKIP``).
- prose: everything else, packed by ``chunking.chunk_section``.

Non-prose paragraphs are blanked (same length, newlines kept) before the prose is chunked, so spans stay
offsets into the section text. Text that is not spoken joins the span of the piece before it (or after it,
at the start), so the plan stays lossless.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from statistics import quantiles

from text_prep.chapters import paragraph_spans
from text_prep.chunking import chunk_section, split_long
from text_prep.headings import heading_speech, title_case
from text_prep.normalize import speech_text
from text_prep.tables import read_rows, row_speech
from text_prep.types import DirectionsPolicy, HeadingNumbers, Pause, PrepareOptions, SpeakersPolicy

__all__ = ["EDITORIAL", "MAX_PAUSE_MS", "Part", "pause_ms", "section_pieces", "strip_editorial"]

MAX_PAUSE_MS = 60_000
PROSE_WIDTH = 70  # the narrowest usual width of hard-wrapped prose (Project Gutenberg wraps at 70-75)

_BREAK = re.compile(r"^\s*(?:(?:[*⁂∗✱✻❋•·]\s*)+|(?:[-–—_=~]\s*){3,}|(?:[*.]\s+){2,}[*.])\s*$")
_PAUSE = re.compile(
    r"^\s*(?:\[\s*pause\s+(?P<a>\d+(?:\.\d+)?)\s*(?P<au>ms|s|secs?|seconds?)?\s*\]"
    r"|<break\s+time\s*=\s*[\"'](?P<b>\d+(?:\.\d+)?)\s*(?P<bu>ms|s)[\"']\s*/?>)\s*$",
    re.I,
)
_EDITORIAL_WORDS = (
    r"illustrations?|music(?:al)?(?: notation| score)?|musical notation|footnote|sidenote|side-note|marginal note|"
    r"transcriber'?s?’?s? notes?|transcriber|editor'?s?’?s? notes?|note|blank page|greek|hebrew|arabic|sanskrit|"
    r"image|picture|plate|map|figure|fig\.|diagram|chart|table|decoration|ornament|signature|handwritten|"
    r"handwriting|drawing|photograph|portrait|frontispiece|vignette|tailpiece|headpiece|equation|formula|"
    r"symbol|seal|stamp|advertisement|cover|page|printer'?s?’?s? mark|logo|sketch|photo|engraving|woodcut|"
    r"etching|facsimile|emblem|monogram|autograph|coat of arms|tune|score|notation"
)
# An editor's bracket: "[Illustration]", "[Illustration: A boy]", "[Music notation]", "[Greek: ...]".
EDITORIAL = re.compile(rf"\[\s*_?(?:{_EDITORIAL_WORDS})_?\s*(?:[:.—–-][^\]]*|\s[^\]]*)?\]", re.I)
_EDITORIAL_PAR = re.compile(rf"^\s*{EDITORIAL.pattern}\s*\.?\s*$", re.I)
_SPEAKER = re.compile(r"^\s*([A-Z][A-Z'’-]*(?: [A-Z][A-Z'’-]*){0,3})\s*[.:]?\s*$")
# A stage direction paragraph in a plain-text play: "[_Exit._]", "_Aside._", "Enter Horatio.", "Exeunt."
_DIRECTION = re.compile(
    r"^\s*(?:\[[^\]]+\]?|_[^_]+_\.?|\((?:[^)]+)\)|(?:Enter|Exit|Exeunt|Re-enter|Manet|Flourish)\b.*)\s*$", re.S)
_MARK_LINE = re.compile(
    r"(?m)^[ \t]*(?:\[[ \t]*pause[^\]\n]*\]|<break[^>\n]*>|(?:[*⁂∗✱✻❋][ \t]*)+)[ \t]*$")
_INLINE_DIRECTION = re.compile(r"\[[^\[\]\n]+(?:\n[^\[\]\n]+)*\]|\(_[^)]+_\)")
_COLUMNS = re.compile(r"\S(?: {3,}|\t+)\S")
_CELLS = re.compile(r"(?: {2,}|\t+|\s*\|\s*)")
_PIPE_ROW = re.compile(r"^\s*\|.*\|\s*$")  # a markdown table row: | a | b |
_PIPE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")  # |---|:--:|


@dataclass
class Part:
    """A piece of a section: span, speech, the pause after it and an explicit pause length (0: the kind's)."""

    start: int
    end: int
    speech: str
    pause: Pause
    pause_ms: int = 0
    direction: bool = False  # a stage direction: a speaker's name goes to the speech after it
    lead_ms: int = 0  # on the first part: a pause mark before any speech (said after the chapter's title)


def pause_ms(paragraph: str) -> int | None:
    """Milliseconds of a pause mark paragraph ("[pause 2s]", '<break time="500ms"/>'), else None."""
    m = _PAUSE.match(paragraph)
    if not m:
        return None
    value, unit = (m.group("a"), m.group("au")) if m.group("a") else (m.group("b"), m.group("bu"))
    ms = float(value) * (1 if (unit or "s").lower() == "ms" else 1000)
    return max(1, min(MAX_PAUSE_MS, round(ms)))


def strip_editorial(text: str) -> str:
    return EDITORIAL.sub(" ", text)


def _wrap_width(text: str) -> int:
    lengths = [len(line.strip()) for line in text.split("\n") if len(line.strip()) > 20]
    if len(lengths) < 10:
        return PROSE_WIDTH  # too little text to measure
    return max(PROSE_WIDTH, int(quantiles(lengths, n=10)[8]))  # a book of verse has no wrapped prose to measure


def _short_lines(lines: list[str], wrap: int) -> bool:
    """Plain-text verse: two or more lines, (nearly) all clearly shorter than the wrapped prose around them,
    most of them starting with a capital."""
    if len(lines) < 2 or wrap < 50:
        return False
    lengths = [len(x.strip()) for x in lines]
    short = sum(1 for n in lengths if n < 0.8 * wrap)
    starts = sum(1 for x in lines if x.strip()[:1].isupper() or x.strip()[:1] in "\"“‘'(" or x.startswith(" "))
    return max(lengths) <= wrap and short * 10 >= len(lines) * 9 and (len(lines) > 2 or short == 2) \
        and starts * 3 >= len(lines) * 2


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for a, b in sorted(spans):
        out.append(text[pos:a])
        out.append(re.sub(r"[^\n]", " ", text[a:b]))
        pos = b
    out.append(text[pos:])
    return "".join(out)


def _cells(line: str) -> list[str]:
    return [c for c in _CELLS.split(line.strip()) if c]


def _line_parts(text: str, a: int, b: int, max_chars: int, language: str, cells: bool) -> list[Part]:
    parts: list[Part] = []
    for m in re.finditer(r"[^\n]*\S[^\n]*", text[a:b]):
        la, lb = a + m.start(), a + m.end()
        while text[la] in " \t":
            la += 1
        for sa, sb in split_long(text, la, lb, max_chars) if lb - la > max_chars else [(la, lb)]:
            line = text[sa:sb]
            if cells:
                if _PIPE_RULE.match(line):
                    if parts:
                        parts[-1].end = sb
                    continue
                line = row_speech(_cells(line))
            speech = speech_text(strip_editorial(line) if "[" in line else line, language)
            if not speech:
                if parts:
                    parts[-1].end = sb
                continue
            if parts and len(parts[-1].speech.split()) == 1 and parts[-1].pause == Pause.LINE:
                prev = parts.pop()  # a one-word line joins the next: a lone word makes poor speech
                sa, speech = prev.start, f"{prev.speech} {speech}"
            parts.append(Part(sa, sb, speech, Pause.LINE))
    if parts:
        parts[-1].pause = Pause.PARAGRAPH
    return parts


def section_pieces(text: str, headings: tuple[tuple[int, int], ...], max_chars: int, language: str,
                   options: PrepareOptions, wrapped: bool = False,
                   letters: bool = False) -> tuple[list[Part], list[str]]:
    """Parts of a section in order, and notes for ``Book.skipped`` (e.g. "table (5 rows)")."""
    own: list[Part] = []
    silent: list[tuple[int, int, Pause | None, int]] = []  # (start, end, pause for the piece before, ms)
    masked: list[tuple[int, int]] = []
    notes: list[str] = []
    numbers = HeadingNumbers(options.heading_numbers)
    head_ends = dict(headings)
    for ha, hb in headings:
        masked.append((ha, hb))
        speech = heading_speech(text[ha:hb], language, numbers=numbers, letters=letters)
        if speech:
            own.append(Part(ha, hb, speech, Pause.TITLE))
        else:
            silent.append((ha, hb, None, 0))
    wrap = -1
    covered = 0  # end of the last heading span
    base = text
    if "[" in text or "<" in text or "*" in text or "⁂" in text:
        # Pause marks and star breaks on a line of their own inside a paragraph: that line is the mark.
        for m in _MARK_LINE.finditer(text):
            ms = pause_ms(m.group(0))
            masked.append((m.start(), m.end()))
            silent.append((m.start(), m.end(), Pause.SCENE if ms is None else None, ms or 0))
        base = _mask(text, masked)
    pars = paragraph_spans(base)
    labels, play = _labels(text, pars, head_ends)
    skip_directions = play and options.stage_directions == DirectionsPolicy.SKIP
    for a, b in pars:
        if a in head_ends:
            covered = head_ends[a]
        if a < covered:
            continue
        if a in labels:
            masked.append((a, b))
            continue
        par = text[a:b]
        if play and _DIRECTION.fullmatch(par) and not _EDITORIAL_PAR.match(par):
            masked.append((a, b))
            speech = "" if skip_directions else speech_text(par, language)
            if speech:
                own.append(Part(a, b, speech, Pause.PARAGRAPH, direction=True))
            else:
                silent.append((a, b, None, 0))
            continue
        if play and "[" in par:
            # Directions inside a speech ("Ta. [_GLADYS withdraws._] Phew!") are said apart, or not at all.
            for m in _INLINE_DIRECTION.finditer(par):
                da, db = a + m.start(), a + m.end()
                masked.append((da, db))
                speech = "" if skip_directions else speech_text(m.group(0), language)
                if speech:
                    own.append(Part(da, db, speech, Pause.PARAGRAPH if db == b else Pause.SENTENCE,
                                    direction=True))
                else:
                    silent.append((da, db, None, 0))
            continue
        first = par.lstrip()[:1]
        if first in "*⁂∗✱✻❋•·-–—_=~." and _BREAK.match(par):
            masked.append((a, b))
            silent.append((a, b, Pause.SCENE, 0))
            continue
        if first in "[<":
            ms = pause_ms(par)
            if ms is not None:
                masked.append((a, b))
                silent.append((a, b, None, ms))
                continue
            if first == "[" and _EDITORIAL_PAR.match(par):
                masked.append((a, b))  # an editor's placeholder; other brackets are the author's words
                silent.append((a, b, None, 0))
                continue
        if "\n" not in par:
            continue
        lines = par.split("\n")
        columns = wrapped and len(lines) >= 3 and sum(1 for x in lines if _COLUMNS.search(x.strip())) * 2 >= len(lines)
        if columns or all(_PIPE_ROW.match(x) for x in lines):
            masked.append((a, b))
            rows = [_cells(x) for x in lines if not _PIPE_RULE.match(x)]
            if read_rows(rows, options.tables):
                own += _line_parts(text, a, b, max_chars, language, cells=True)
            else:
                silent.append((a, b, None, 0))
                notes.append(f"table ({len(rows)} rows)")
            continue
        if not options.verse_lines:
            continue
        if wrapped:
            if wrap < 0:
                wrap = _wrap_width(text)
            if not _short_lines(lines, wrap):
                continue
        masked.append((a, b))
        own += _line_parts(text, a, b, max_chars, language, cells=False)

    parts = [Part(p.start, p.end, p.speech, p.pause) for p in chunk_section(_mask(text, masked), (), max_chars,
                                                                              language)]
    if parts and parts[-1].pause == Pause.CHAPTER:
        parts[-1].pause = Pause.PARAGRAPH  # chunking marks its last piece; the section may go on
    for p in parts:
        if "[" in text[p.start:p.end] and EDITORIAL.search(text, p.start, p.end):
            p.speech = speech_text(strip_editorial(text[p.start:p.end]), language)
            if not p.speech:
                silent.append((p.start, p.end, None, 0))
    parts = _split_around([p for p in parts if p.speech], own, text, language, silent) + own
    parts.sort(key=lambda p: p.start)
    _attach_labels(parts, labels, options.speakers if play else SpeakersPolicy.ATTACH, silent)
    _absorb(parts, silent)
    if parts:
        parts[-1].pause = Pause.CHAPTER
    return parts, notes


def _labels(text: str, pars: list[tuple[int, int]], head_ends: dict[int, int]) -> tuple[dict[int, tuple[int, str]],
                                                                                      bool]:
    """Paragraphs that are only a name or a word in capitals, said with the paragraph after them: speakers of a
    play (three or more, a fifth of the paragraphs, mostly names said more than once) or a dictionary's
    headwords (ten or more, a quarter of the paragraphs, nearly all single words).
    Returns start -> (end, label in title case), and whether the section is a play."""
    found: dict[int, tuple[int, str]] = {}
    for a, b in pars:
        if b - a <= 40 and a not in head_ends and text[a].isupper():
            m = _SPEAKER.fullmatch(text[a:b])
            if m and m.group(1) not in ("I", "A", "O") and not _BREAK.match(text[a:b]):
                found[a] = (b, title_case(m.group(1)) if len(m.group(1)) > 1 else m.group(1))
    names = [n for _, n in found.values()]
    repeated = sum(1 for n in names if names.count(n) >= 2)
    if len(found) >= 3 and repeated * 2 >= len(found) and len(found) * 5 >= len(pars):
        return found, True
    single = sum(1 for _, n in found.values() if " " not in n)
    if len(found) >= 10 and len(found) * 4 >= len(pars) and single * 5 >= len(found) * 4:
        return found, False
    return {}, False


def _attach_labels(parts: list[Part], labels: dict[int, tuple[int, str]], policy: SpeakersPolicy,
                   silent: list[tuple[int, int, Pause | None, int]]) -> None:
    """Each label paragraph joins the first part after it (its span, and its name before the speech); a label
    with no speech of its own before the next label or heading is silent."""
    starts = [p.start for p in parts]
    order = sorted(labels.items())
    for n, (a, (b, name)) in enumerate(order):
        k = bisect.bisect_left(starts, b)
        nxt = order[n + 1][0] if n + 1 < len(order) else None
        if k >= len(parts) or parts[k].pause == Pause.TITLE or (nxt is not None and nxt < parts[k].start):
            silent.append((a, b, None, 0))
            continue
        p = parts[k]
        p.start = starts[k] = a
        while p.direction and k + 1 < len(parts) and (nxt is None or parts[k + 1].start < nxt) \
                and parts[k + 1].pause != Pause.TITLE:
            k += 1
            p = parts[k]  # "ROPER. [_Taking off his gloves._] She won't be long": the name is said with the words
        if policy == SpeakersPolicy.ATTACH and not p.direction:
            p.speech = f"{name}: {p.speech}"


def _split_around(parts: list[Part], inner: list[Part], text: str, language: str,
                  silent: list[tuple[int, int, Pause | None, int]]) -> list[Part]:
    """Prose parts cut where a part of their own (a stage direction inside a sentence) lies within them."""
    if not inner:
        return parts
    starts = sorted((p.start, p.end) for p in inner)
    out: list[Part] = []
    for p in parts:
        k = bisect.bisect_right(starts, (p.start, p.end))
        inside = []
        while k < len(starts) and starts[k][1] <= p.end:
            inside.append(starts[k])
            k += 1
        if not inside:
            out.append(p)
            continue
        pos = p.start
        for a, b in [*inside, (p.end, p.end)]:
            seg_a, seg_b = pos, a
            while seg_a < seg_b and text[seg_a].isspace():
                seg_a += 1
            while seg_b > seg_a and text[seg_b - 1].isspace():
                seg_b -= 1
            speech = speech_text(text[seg_a:seg_b], language) if seg_b > seg_a else ""
            if speech:
                out.append(Part(seg_a, seg_b, speech, p.pause if a == p.end else Pause.SENTENCE, p.pause_ms))
            elif seg_b > seg_a:
                silent.append((seg_a, seg_b, None, 0))  # a lone quote mark between two directions
            pos = b
    return out


def _absorb(parts: list[Part], silent: list[tuple[int, int, Pause | None, int]]) -> None:
    """Unspoken paragraphs join the piece before them (or the first piece, at the start); pauses carried over."""
    if not parts:
        return
    starts = [p.start for p in parts]
    for a, b, pause, ms in sorted(silent):
        k = bisect.bisect_right(starts, a) - 1
        if k < 0:
            parts[0].start = min(parts[0].start, a)
            starts[0] = parts[0].start
            parts[0].lead_ms = max(parts[0].lead_ms, ms)
            continue
        p = parts[k]
        p.end = max(p.end, b)
        if pause is not None and p.pause != Pause.TITLE:
            p.pause = pause
        if ms:
            p.pause_ms = max(p.pause_ms, ms)
