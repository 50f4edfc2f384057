"""Thin Celery tasks over ``pipeline.steps``: each takes a job id (and a chapter, chunk positions), is
idempotent, and names the book, chapter and chunk range in its arguments so Flower reads like a to-do list.

The canvas of a job (built by ``prepare`` once the plan exists)::

    chord([ chord([synthesize(ch 0, chunks 0-15), synthesize(ch 0, chunks 16-31), ...], stitch_chapter(ch 0)),
            chord([synthesize(ch 1, ...), ...], stitch_chapter(ch 1)),  ... ],
          assemble_book)

No task waits on another's result: chords fire callbacks when their header is done.
"""

from __future__ import annotations

import logging

from celery import chord, signals

from pipeline import steps
from pipeline.errors import TransientError
from pipeline.manifest import WorkUnit
from pipeline.states import JobState, StitchOutcome
from pipeline.store import Store
from worker import engine
from worker.app import app, celery_priority, current_settings

__all__ = ["assemble_book", "build_canvas", "enqueue", "prepare", "stitch_chapter", "synthesize"]

log = logging.getLogger(__name__)

STITCH_WAIT_S = 5


def _store() -> Store:
    return Store(current_settings().data_dir)


def _engine() -> engine.Engine:
    return engine.current_engine(current_settings())


@app.task(name="tomecast.prepare", bind=True, autoretry_for=(TransientError,), max_retries=3,
          retry_backoff=True)
def prepare(self, job_id: str, book: str = "") -> int:
    """Plan the book and its voice, then queue its synthesis canvas. Returns the number of chunks queued."""
    store = _store()
    work = steps.prepare_job(store, job_id, _engine())
    if store.state(job_id).state == JobState.CANCELLED:
        return 0
    build_canvas(store, job_id, work).apply_async()
    return sum(len(u.positions) for units in work.values() for u in units)


@app.task(name="tomecast.synthesize", bind=True, autoretry_for=(TransientError,), max_retries=3,
          retry_backoff=True)
def synthesize(self, job_id: str, chapter: int, positions: list[int], book: str = "", chapter_title: str = "",
               chunks: str = "") -> dict:
    """Make the audio of chunks ``positions`` of ``chapter``; progress goes to the task state (Flower)."""
    done = {"chunks": 0, "audio_s": 0.0}

    def progress(n: int, seconds: float) -> None:
        done["chunks"] += n
        done["audio_s"] += seconds
        meta = {"done": done["chunks"], "total": len(positions), "audio_s": round(done["audio_s"], 2)}
        self.update_state(state="PROGRESS", meta=meta)   # AsyncResult(id).info
        # Flower: state PROGRESS, with the progress in the result column until the task ends
        self.send_event("task-progress", result=f"{meta['done']}/{meta['total']} chunks, {meta['audio_s']} s audio")

    r = steps.synthesize_chunks(_store(), job_id, chapter, positions, _engine(),
                                   current_settings().batch_size, progress)
    return {"synthesized": r.synthesized, "skipped": r.skipped, "failed": r.failed,
            "audio_s": round(r.audio_seconds, 2)}


@app.task(name="tomecast.stitch_chapter", bind=True, max_retries=200)
def stitch_chapter(self, job_id: str, chapter: int, book: str = "", chapter_title: str = "") -> dict:
    r = steps.stitch_chapter(_store(), job_id, chapter)
    if r.state == StitchOutcome.WAITING:  # a redelivered task made the chord fire early: look again shortly
        raise self.retry(countdown=STITCH_WAIT_S)
    return {"state": r.state, "stitched": r.stitched, "duration_s": r.duration}


@app.task(name="tomecast.assemble_book", bind=True)
def assemble_book(self, job_id: str, book: str = "") -> str | None:
    out = steps.assemble_book(_store(), job_id)
    return None if out is None else str(out)


def build_canvas(store: Store, job_id: str, work: dict[int, list[WorkUnit]]):
    """The chord of chapter chords for ``work`` (chapter -> synthesize units; empty: stitch only)."""
    spec = store.spec(job_id)
    prio = celery_priority(spec.priority)
    title = store.state(job_id).title or spec.name
    plan = steps.load_plan(store, job_id)
    header = []
    for chapter, units in work.items():
        ch_title = plan.chapters[chapter].title
        stitch = stitch_chapter.si(job_id, chapter, book=title, chapter_title=ch_title).set(priority=prio)
        synths = [synthesize.si(job_id, chapter, list(u.positions), book=title, chapter_title=ch_title,
                                chunks=u.label).set(priority=prio) for u in units]
        header.append(chord(synths, stitch) if synths else stitch)
    return chord(header, assemble_book.si(job_id, book=title).set(priority=prio))


def enqueue(store: Store, job_id: str) -> None:
    """Queue a job's prepare task. For a job prepared before (a retry), prepare finds the manifest and queues
    the canvas of what is left: pending chunks, chapters not stitched, the book."""
    spec = store.spec(job_id)
    prepare.apply_async((job_id,), {"book": spec.name}, priority=celery_priority(spec.priority))


@signals.task_postrun.connect
def _release_engine(**_) -> None:
    """Free per-task memory (caches, allocator) after every task; the weights stay loaded."""
    engine.release_loaded()
