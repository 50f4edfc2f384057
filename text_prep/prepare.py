"""``prepare(path, options) -> Book``: read a manuscript, keep the body, chunk every chapter, add the spoken
opening and chapter titles, and give every chunk its content key."""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from text_prep.document import Section
from text_prep.errors import BookFormatError, TextPrepError
from text_prep.headings import heading_speech, letter_sections
from text_prep.layout import Part, section_pieces
from text_prep.lexicon import load_lexicon
from text_prep.normalize import is_speakable
from text_prep.notes import apply_notes
from text_prep.readers import read_document
from text_prep.sentences import sentence_spans
from text_prep.tags import has_placeholder, mask, unmask
from text_prep.types import Book, Chapter, Chunk, HeadingNumbers, Pause, PrepareOptions

__all__ = ["MAX_CHARS_RANGE", "opening_text", "prepare"]

log = logging.getLogger(__name__)

# 600 characters is about 40 s of speech: the model's 1000 speech-token cap.
MAX_CHARS_RANGE = (40, 600)


# Books with more text than this are chunked by several processes (when the process may fork safely).
PARALLEL_MIN_CHARS = 2_000_000
MAX_WORKERS = 4
VERSE_BOOK = 0.5  # share of verse-line chunks above which a book is poetry (numbered headings read bare)


def _workers(sections: list[Section]) -> int:
    total = sum(len(s.text) for s in sections)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if total < PARALLEL_MIN_CHARS or cpus < 2 or len(sections) < 2:
        return 1
    # Forking is safe only in a single-threaded, non-daemon process (a Celery prefork child is a daemon).
    if multiprocessing.current_process().daemon or threading.active_count() > 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return min(cpus, MAX_WORKERS, len(sections))


def _chunk_job(args: tuple) -> tuple[list[Part], list[str]]:
    return section_pieces(*args)


def _chunk_sections(sections: list[Section], options: PrepareOptions, language: str, letters: bool,
                    progress: Callable[[int, int], None] | None = None) -> list[tuple[list[Part], list[str]]]:
    """Pieces of every section, in order; sections are independent, so big books use a process pool."""
    jobs = [(s.text, s.headings, options.max_chars, language, options, s.wrapped, letters) for s in sections]
    workers = _workers(sections)
    out: list[tuple[list[Part], list[str]]] = []
    if workers == 1:
        results = map(_chunk_job, jobs)
        pool = None
    else:
        log.debug("chunking %d sections with %d processes", len(jobs), workers)
        sentence_spans("Warm up. Load Punkt once, before forking.")
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        results = pool.map(_chunk_job, jobs, chunksize=1)
    try:
        for pieces in results:
            out.append(pieces)
            if progress is not None:
                progress(len(out), len(jobs))
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return out


_PAUSE_RANK = {p: i for i, p in enumerate((Pause.LINE, Pause.SENTENCE, Pause.PARAGRAPH, Pause.TITLE, Pause.SCENE,
                                            Pause.CHAPTER))}


def _masked(section: Section) -> Section:
    """The section with Turbo's tags masked (``text_prep.tags``): same length, so spans stay valid."""
    text = mask(section.text)
    return section if text is section.text else dataclasses.replace(section, text=text)


def _spoken(pieces: list[Part], say: Callable[[str], str]) -> list[Part]:
    """Pieces with their final speech; a piece that said only tags (stripped) joins the span of the piece before
    it (or after it), so the plan stays lossless."""
    out: list[Part] = []
    lead: Part | None = None  # leading tag-only pieces: their span (and lead pause) go to the next piece
    for p in pieces:
        speech = say(p.speech)
        if not is_speakable(speech) and has_placeholder(p.speech):
            if out:
                prev = out[-1]
                out[-1] = dataclasses.replace(prev, end=p.end, pause=max(prev.pause, p.pause, key=_PAUSE_RANK.get),
                                              pause_ms=max(prev.pause_ms, p.pause_ms))
            elif lead is None:
                lead = p
            continue
        if lead is not None:
            p = dataclasses.replace(p, start=lead.start, lead_ms=max(lead.lead_ms, p.lead_ms))
            lead = None
        out.append(dataclasses.replace(p, speech=speech))
    return out


def opening_text(title: str, author: str) -> str:
    return f"{title}, by {author}" if author else title


def prepare(path: str | Path, options: PrepareOptions | None = None, *,
            progress: Callable[[int, int], None] | None = None) -> Book:
    """The plan of the manuscript at ``path``; raises ``TextPrepError`` subclasses for bad input.

    ``progress(done, total)`` is called as chapters (sections) are chunked.
    """
    options = options or PrepareOptions()
    lo, hi = MAX_CHARS_RANGE
    if not lo <= options.max_chars <= hi:
        raise TextPrepError(f"max_chars must be between {lo} and {hi}, got {options.max_chars}")
    lexicon = load_lexicon(options.lexicon).apply  # read and checked before any work; speech text only

    def say(speech: str) -> str:  # tags were masked through normalization (text_prep.tags): keep or strip them
        return unmask(lexicon(speech), options.tags)

    doc = read_document(path, options)
    language = options.language or doc.language or "en"
    skipped = list(doc.skipped)
    chapters: list[Chapter] = []
    kept = [s for s in doc.sections if options.include_front_matter or not s.matter]
    skipped += apply_notes(kept, options.notes)
    letters = letter_sections([s.title for s in kept])
    results = _chunk_sections([_masked(s) for s in kept], options, language, letters, progress)
    numbers = options.heading_numbers
    lines = [p.pause == Pause.LINE for parts, _ in results for p in parts]
    if lines and sum(lines) > VERSE_BOOK * len(lines):
        numbers = HeadingNumbers.BARE  # a book of poems: "II." is poem two, not "Chapter two"
    all_pieces = iter(results)
    for sec in doc.sections:
        label = sec.title or sec.source
        if sec.matter and not options.include_front_matter:
            skipped.append(f"{label} ({sec.matter})")
            continue
        pieces, notes = next(all_pieces)
        pieces = _spoken(pieces, say)
        skipped += [f"{label}: {note}" for note in notes]
        if not pieces:
            skipped.append(f"{label} (no text)")
            continue
        chunks: list[Chunk] = []
        if not chapters and options.speak_title and doc.title:
            opening = opening_text(doc.title, doc.author)
            speech = say(heading_speech(mask(opening), language))
            if is_speakable(speech):
                chunks.append(Chunk.make(0, opening, speech, (0, 0), Pause.TITLE))
        if options.speak_chapter_titles and sec.title:
            speech = say(heading_speech(mask(sec.title), language, numbers=numbers, chapter_level=True,
                                        letters=letters))
            if speech:
                chunks.append(Chunk.make(len(chunks), sec.title, speech, (0, 0), Pause.TITLE))
        if pieces[0].lead_ms and chunks:  # "[pause 2s]" before the chapter's first words: after its title
            chunks[-1] = dataclasses.replace(chunks[-1], pause_ms=pieces[0].lead_ms)
        for p in pieces:
            chunks.append(Chunk.make(len(chunks), sec.text[p.start:p.end], p.speech, (p.start, p.end), p.pause,
                                     p.pause_ms))
        title = sec.title or (doc.title if not chapters else f"Section {len(chapters) + 1}")
        chapters.append(Chapter(len(chapters), title, tuple(chunks), sec.source, sec.text))
    if not chapters:
        raise BookFormatError(f"no readable text in {str(path)!r}")
    log.debug("prepared %s: %d chapters, %d chunks", path, len(chapters), sum(len(c.chunks) for c in chapters))
    return Book(doc.title, doc.author, language, tuple(chapters), tuple(skipped), doc.cover)
