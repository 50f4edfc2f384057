"""The book's QA report (``qa.report``), built from a finished job: one record per chunk, one per chapter.

Chunk records come from the manifest's qa fields and each chunk's verdict sidecar (the kept take's check
results); their start times from the stitch: a chapter master keeps each chunk's offset in the chapter, and the
M4B's chapters start where the previous masters end. Chapter records are the ACX figures measured on the
delivered chapter files; the M4B's loudness and true peak are measured on it too (after AAC encoding). Written
next to the M4B in the job folder: ``qa-report.json``, ``qa-report.md`` and ``qa-report-chNN.png``.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.loudness import Loudness, measure_loudness
from pipeline.names import book_file_name
from pipeline.qa_stage import Verdict, job_qa_settings
from pipeline.stitch import ChapterMaster
from pipeline.store import Store
from qa.repair import ChunkState as QAState
from qa.report import BookFile, BookReport, ChapterRecord, ChunkRecord, ReportFiles, write_report

__all__ = ["REPORT_STEM", "Delivered", "book_report", "measure_chapters", "report_path", "write_book_report"]

log = logging.getLogger(__name__)

REPORT_STEM = "qa-report"


@dataclass(frozen=True)
class Delivered:
    """Figures of the delivered files measured already (by the assembly, beside the M4B's encoding), so the
    report does not decode them again: chapter index -> its record, and the M4B's loudness after encoding."""

    chapters: Mapping[int, ChapterRecord] = field(default_factory=dict)
    m4b: Loudness | None = None


def measure_chapters(store: Store, job_id: str, skip: Collection[int] = ()) -> dict[int, ChapterRecord]:
    """ACX figures of each delivered chapter file (decoded as the listener gets it), by chapter index; none for
    the chapters in ``skip``."""
    from pipeline.steps import load_plan

    book = load_plan(store, job_id)
    folder = store.job_dir(job_id)
    return {ch.index: ChapterRecord.measure(ch.index, book.chapters[ch.index].title, folder / ch.file)
            for ch in store.manifest(job_id).chapters
            if ch.index not in skip and ch.file and (folder / ch.file).is_file()}


def report_path(store: Store, job_id: str) -> Path:
    """The job's Markdown summary (``tomecast report`` prints it)."""
    return store.job_dir(job_id) / f"{REPORT_STEM}.md"


def book_report(store: Store, job_id: str, *, measure: bool = True, delivered: Delivered = Delivered()) -> BookReport:
    """The report of a job whose chapters are stitched; ``measure``: ACX figures of the chapter files, loudness
    and true peak of the M4B (both as delivered, after encoding), unless ``delivered`` has them."""
    from pipeline.steps import load_plan

    book = load_plan(store, job_id)
    manifest = store.manifest(job_id)
    folder = store.job_dir(job_id)
    measured = {**measure_chapters(store, job_id, skip=delivered.chapters), **delivered.chapters} if measure else {}
    chunks, chapters, asr_models = [], [], set()
    book_start = 0.0
    for ch in manifest.chapters:
        master = ChapterMaster.load(store.chapter_cache_path(ch.stitch_key)) if ch.stitch_key else None
        offsets = master.offsets if master is not None else ()
        for e in manifest.chapter_chunks(ch.index):
            v = Verdict.load(store, e.cache)
            if v is not None and v.asr_model:
                asr_models.add(v.asr_model)
            at = offsets[e.position] if e.position < len(offsets) else 0.0
            state = QAState(e.qa_state) if e.qa_state else QAState.PASSED if v is None else v.state
            # a failed chunk: why its kept take fails; a repaired one: why its first take was not kept
            reasons = tuple(e.qa_reasons) if state == QAState.FAILED else \
                tuple(v.attempts[0].reasons) if v is not None and v.attempts and state != QAState.PASSED else ()
            chunks.append(ChunkRecord(
                chapter=ch.index, position=e.position, text=book.chapters[ch.index].chunks[e.position].text,
                state=state, attempts=max(e.qa_attempts, 1), scores=tuple(e.qa_scores),
                checks=v.report.results if v is not None else (), start_chapter=at, start_book=book_start + at,
                duration=e.duration or 0.0, chunk_id=e.id, reasons=reasons))
        title = book.chapters[ch.index].title
        duration = master.duration if master is not None else (ch.duration or 0.0)
        if ch.index in measured:
            chapters.append(measured[ch.index])
        else:
            chapters.append(ChapterRecord(ch.index, title, Path(ch.file).name if ch.file else "", duration))
        book_start += duration
    spec = store.spec(job_id)
    settings = job_qa_settings(spec)
    m4b = folder / book_file_name(book.title)
    book_file = None
    if measure and m4b.is_file():
        lufs, peak = delivered.m4b or measure_loudness(m4b)
        book_file = BookFile(m4b.name, lufs, peak, spec.stitching.true_peak_db)
    return BookReport(book.title, book.author, tuple(chunks), tuple(chapters),
                      ", ".join(sorted(asr_models)) or None, settings.to_dict(), book_file)


def write_book_report(store: Store, job_id: str, *, plots: bool = True,
                      delivered: Delivered = Delivered()) -> ReportFiles:
    """Build and write the job's report into its folder."""
    files = write_report(book_report(store, job_id, delivered=delivered), store.job_dir(job_id), REPORT_STEM,
                         plots=plots)
    log.info("QA report: %s", files.summary)
    return files
