"""Job commands: convert (embedded, one process), submit/status/cancel/retry/jobs (distributed), worker.

submit, status, cancel, retry and jobs never import torch.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import sys
from pathlib import Path

from worker.cli.options import (
    add_batch_options,
    add_broker_options,
    add_data_options,
    add_engine_options,
    add_model_options,
    add_output_options,
    add_qa_options,
    add_qa_queue_options,
    add_sampling_options,
    add_speech_engine_options,
    add_task_options,
    add_text_options,
    add_voice_options,
    add_watermark_options,
    prepare_options,
    qa_options,
    settings_from,
)

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("convert", formatter_class=fmt, help="turn a book into an audiobook in this process",
                       description="Convert BOOK (txt, md, html, epub) into an M4B with chapter markers and one "
                                   "audio file per chapter, in this process (no Redis, no workers).\n\n"
                                   "Chunks already made (same model, voice, sampling, seed and text) come from the "
                                   "cache in the data folder, so a rerun after an edit only makes what changed.",
                       epilog="example: tomecast convert book.epub --voice narrator.wav -o audiobooks/")
    p.add_argument("book", help="the manuscript: .txt, .md, .html or .epub")
    p.add_argument("-o", "--output", default=".", metavar="PATH",
                   help="a folder (it gets TITLE.m4b and a TITLE/ folder of chapter files), or a NAME.m4b file name "
                        "(chapter files go to NAME/); checked before any synthesis (default: .)")
    p.add_argument("--force", action="store_true",
                   help="replace an M4B and chapter files already there (chapter files of another format too)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_voice_options(p)
    add_data_options(p)
    add_model_options(p)
    add_engine_options(p)
    add_batch_options(p)
    add_watermark_options(p)
    add_speech_engine_options(p)
    add_sampling_options(p)
    add_output_options(p)
    add_text_options(p)
    add_qa_options(p)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("submit", formatter_class=fmt, help="queue books for the workers; prints job ids",
                       description="Queue each BOOK as a job for the workers and print its id at once.\n"
                                   "Higher --priority runs first (0..9, default 5); equal priorities run in order.",
                       epilog="example: tomecast submit a.epub b.txt --voice narrator.wav --priority 7")
    p.add_argument("books", nargs="+", metavar="BOOK")
    p.add_argument("--priority", type=int, default=5, help="0..9, 9 runs first (default 5)")
    add_voice_options(p)
    add_data_options(p)
    add_broker_options(p)
    add_task_options(p)
    add_qa_queue_options(p)
    add_model_options(p)
    add_speech_engine_options(p)
    add_sampling_options(p)
    add_output_options(p)
    add_text_options(p)
    add_qa_options(p)
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("status", help="progress of one job or of all jobs (table)",
                       description="Show state, chapters done, chunks done/failed, audio made, ETA and errors.")
    p.add_argument("job", nargs="?", help="job id (or a unique prefix/suffix); default: all jobs")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_data_options(p)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("jobs", help="list jobs", description="List every job in the data folder, oldest first.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_data_options(p)
    p.set_defaults(func=cmd_jobs)

    p = sub.add_parser("cancel", help="cancel a job", description="Cancel JOB: its queued tasks do nothing.")
    p.add_argument("job")
    add_data_options(p)
    p.set_defaults(func=cmd_cancel)

    p = sub.add_parser("retry", help="re-run the failed chunks of a job",
                       description="Queue again only the failed chunks of a failed, cancelled or stalled JOB "
                                   "(and any never made), then re-stitch the chapters they belong to and assemble "
                                   "the book. A job that failed for a full disk resumes once space is freed. "
                                   "For a finished book whose chunks failed their quality checks, exactly those "
                                   "chunks get new takes (new seeds). --here runs it in this process (a book "
                                   "made by convert: no Redis, no workers).")
    p.add_argument("job")
    p.add_argument("--here", action="store_true", help="run the retry in this process instead of queueing it")
    add_data_options(p)
    add_broker_options(p)
    add_engine_options(p)
    add_batch_options(p)
    p.set_defaults(func=cmd_retry)

    p = sub.add_parser("worker", formatter_class=fmt, help="run a worker (GPU synthesis or CPU stitching)",
                       description="Run a Celery worker. GPU workers serve the 'gpu' queue with one process per "
                                   "device; the model loads on the first task. A CPU worker serves 'cpu' "
                                   "(prepare, stitch, assemble). A QA worker serves the QA queue named by "
                                   "TOMECAST_QA_QUEUE (or --qa-queue): the checks of jobs submitted with it, "
                                   "Whisper on its CPU cores, no speech model.",
                       epilog="examples:\n  tomecast worker --queues gpu --device cuda:0\n"
                              "  tomecast worker --queues cpu --concurrency 2\n"
                              "  TOMECAST_QA_QUEUE=qa tomecast worker --queues qa")
    p.add_argument("--queues", "-Q", default="gpu,cpu",
                   help="comma-separated: gpu, cpu, and the QA queue if one is named (default gpu,cpu)")
    p.add_argument("--concurrency", "-c", type=int, help="processes (default 1 with gpu, 2 for cpu only)")
    p.add_argument("--name", "-n", help="worker node name (default: queues-device@host)")
    p.add_argument("--loglevel", "-l", default="info", help="debug, info, warning or error (default info)")
    add_data_options(p)
    add_broker_options(p)
    add_model_options(p)
    add_engine_options(p)
    add_batch_options(p)
    add_watermark_options(p)
    add_qa_queue_options(p, worker=True)
    p.set_defaults(func=cmd_worker)


def _store(settings):
    from pipeline.store import Store

    return Store(settings.data_dir).ensure()


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def _embedded_call(settings) -> int | None:
    """Chunks per engine call in this process: with neither a batch size nor a task size given, as many as the
    loaded model takes at once (a GPU's batch from its free memory, not the 16-chunk tasks sized for any worker)."""
    return None if settings.auto_batch and settings.auto_chunks else settings.chunks_per_call


def cmd_convert(args: argparse.Namespace) -> int:
    from tqdm.contrib.logging import logging_redirect_tqdm

    from pipeline import steps
    from pipeline.jobs import submit_job
    from pipeline.leases import Lease
    from pipeline.limits import check_book_length
    from pipeline.names import book_file_name
    from pipeline.schedule import Step, StepKind
    from worker.cli import delivery
    from worker.cli.progress import ChunkProgress
    from worker.engine import current_engine

    settings = settings_from(args)
    output = delivery.check_output_path(Path(args.output).expanduser())   # before any job or work
    store = _store(settings)
    # one process, no queues: its QA runs inside synthesis whatever TOMECAST_QA_QUEUE says
    options = dataclasses.replace(settings.job_options(prepare=prepare_options(args)), qa=qa_options(args),
                                  qa_queue="")
    job_id = submit_job(store, args.book, options, voice=settings.voice, max_book_mb=settings.max_book_mb)
    progress = ChunkProgress(Path(args.book).name, enabled=False if args.quiet else None)
    engine = current_engine(settings)   # loads nothing until the job's voice is prepared

    def planned(manifest) -> None:   # after planning, before synthesis: limits, then where the files will go
        check_book_length(store, job_id, settings.max_book_hours)
        title = steps.load_plan(store, job_id).title
        delivery.check_destination(output, book_file_name(title), manifest, args.force)
        progress.start(manifest)

    try:
        # log lines (a chapter's QA summary, errors) go above the bar, never into it; per-chunk conditions are
        # records (manifest, QA report), so the model's per-chunk runaway warning is not repeated here
        # the lease shows this process alive to the watchdogs of workers sharing the data folder (a PREPARE step
        # covers the whole job: none of its work is dispatched to them while this runs)
        with delivery.closing_job(store, job_id), Lease(store, job_id, Step(StepKind.PREPARE), settings.heartbeat), \
                logging_redirect_tqdm(), _quiet("model.tts"):
            out = steps.run_all(store, job_id, engine, _embedded_call(settings), on_batch=progress.advance,
                                on_plan=planned)
    finally:
        progress.close(complete=_done(store, job_id))
    if out is None:
        print(f"tomecast: failed: {store.state(job_id).error}", file=sys.stderr)
        return 1
    book, chapters = delivery.deliver(store, job_id, out, output, args.force)
    print(book)
    for c in chapters:
        print(c)
    _deliver_report(store, job_id, book)
    return 0


def _done(store, job_id: str) -> bool:
    from pipeline.errors import JobNotFoundError
    from pipeline.states import JobState

    try:
        return store.state(job_id).state == JobState.DONE
    except JobNotFoundError:   # removed by delivery.closing_job: its manuscript could not be planned
        return False


@contextlib.contextmanager
def _quiet(logger: str):
    """Only errors from ``logger`` while the bar runs (unless -v / TOMECAST_DEBUG asked for everything)."""
    log_ = logging.getLogger(logger)
    saved = log_.level
    if logging.getLogger().level > logging.DEBUG:
        log_.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log_.setLevel(saved)


def _deliver_report(store, job_id: str, m4b: Path) -> None:
    """The QA report beside the delivered M4B (``TITLE.qa-report.md``, ``.json``, ``-chNN.png``); its path and
    counts on stderr (stdout lists the audio files)."""
    from pipeline.files import atomic_copy
    from pipeline.report import REPORT_STEM, report_path

    md = report_path(store, job_id)
    if not md.is_file():
        print("tomecast: no QA report was written (see the log above)", file=sys.stderr)
        return
    for src in sorted(md.parent.glob(f"{REPORT_STEM}*")):
        if src.suffix in (".md", ".json", ".png"):
            atomic_copy(src, m4b.with_name(f"{m4b.stem}.{src.name}"))
    manifest = store.manifest(job_id)
    failed = len(manifest.qa_failed())
    repaired = sum(c.qa_state in ("trimmed", "repaired", "split") for c in manifest.chunks)
    print(f"QA: {len(manifest.chunks)} chunks checked, {repaired} repaired, {failed} failed; report: "
          f"{m4b.with_name(f'{m4b.stem}.{md.name}')}" + (f" (`tomecast report {job_id}`)" if failed else ""),
          file=sys.stderr)


def _enqueue(store, job_id: str) -> None:
    from kombu.exceptions import OperationalError

    from worker.app import app
    from worker.broker import BrokerError, safe_url
    from worker.tasks import enqueue

    try:
        enqueue(store, job_id)
    except OperationalError as exc:
        raise BrokerError(f"cannot reach the broker at {safe_url(app.conf.broker_url)}: {exc}") from None


def _use(settings) -> None:
    """Point the Celery app at the settings' broker, and fail at once (one line) if it cannot be reached."""
    from worker.app import use_settings
    from worker.broker import check_reachable

    use_settings(settings)
    for url in dict.fromkeys((settings.broker_url, settings.backend_url)):
        check_reachable(url)


def cmd_submit(args: argparse.Namespace) -> int:
    from pipeline.jobs import submit_job, validate_request

    settings = settings_from(args)
    options = dataclasses.replace(settings.job_options(priority=args.priority, prepare=prepare_options(args)),
                                  qa=qa_options(args))
    for book in args.books:   # every book checked before any is queued
        validate_request(book, options, settings.voice, max_book_mb=settings.max_book_mb)
    _use(settings)
    store = _store(settings)
    for book in args.books:
        job_id = submit_job(store, book, options, voice=settings.voice, max_book_mb=settings.max_book_mb)
        _enqueue(store, job_id)
        print(job_id)
    return 0


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, *body])


def _status_rows(statuses) -> list[list[str]]:
    from worker.cli.progress import format_duration

    rows = []
    for s in statuses:
        state = f"{s.state}, stalled since {s.stalled_since[11:19]}" if s.stalled_since else str(s.state)
        rows.append([s.job_id, s.title[:32], state, str(s.priority),
                     f"{s.chapters_done}/{s.chapters}", f"{s.chunks_done}/{s.chunks}", str(s.chunks_failed),
                     _minutes(s.audio_seconds), format_duration(s.eta_seconds),
                     (s.errors[0][:60] + (f" (+{len(s.errors) - 1})" if len(s.errors) > 1 else "")) if s.errors
                     else ""])
    return rows


STATUS_HEADERS = ["JOB", "TITLE", "STATE", "PRIO", "CHAPTERS", "CHUNKS", "FAILED", "AUDIO MIN", "ETA", "ERRORS"]


def cmd_status(args: argparse.Namespace) -> int:
    from pipeline.jobs import job_status, list_jobs

    settings = settings_from(args)
    store = _store(settings)
    stall = _stall_after(settings)
    statuses = [job_status(store, args.job, stall)] if args.job else list_jobs(store, stall)
    if args.json:
        print(json.dumps([{**s.to_dict(), "chunks_qa_failed": _qa_failed(store, s.job_id)} for s in statuses],
                         indent=1))
        return 0
    print(_table(_status_rows(statuses), STATUS_HEADERS))
    if args.job:
        s = statuses[0]
        if store.has_manifest(s.job_id):
            chapters = store.manifest(s.job_id).chapters
            print()
            print(_table([[str(c.index + 1), c.title[:40], c.state, str(c.chunks),
                           _minutes(c.duration or 0.0), c.file or ""] for c in chapters],
                         ["#", "CHAPTER", "STATE", "CHUNKS", "MIN", "FILE"]))
        if s.output:
            print(f"\nbook: {s.output}")
        qa_failed = _qa_failed(store, s.job_id)
        if qa_failed:
            print(f"qa: {qa_failed} chunk{'s' if qa_failed != 1 else ''} failed their checks (kept in the book with "
                  f"their reasons): `tomecast report {s.job_id}` lists them, `tomecast retry {s.job_id}` re-runs them")
        for e in s.errors:
            print(f"error: {e}")
        if s.chunks_unchecked:
            queue = store.spec(s.job_id).qa_queue or "cpu"
            print(f"qa: {s.chunks_unchecked} chunks made, waiting for their check on the {queue!r} queue (served by "
                  f"`TOMECAST_QA_QUEUE={queue} tomecast worker --queues {queue}`)")
        if s.duplicates:
            print(f"duplicate deliveries: {s.duplicates} chunks were found already made (harmless)")
        if s.stalled_since:
            print(f"stalled since {s.stalled_since}: no task has worked on it since; a running worker's watchdog "
                  f"dispatches its lost work again, or run `tomecast retry {s.job_id}`")
    return 0


def _qa_failed(store, job_id: str) -> int:
    """Chunks kept in the book although they failed their quality checks."""
    return len(store.manifest(job_id).qa_failed()) if store.has_manifest(job_id) else 0


def _stall_after(settings) -> float:
    """Seconds of silence after which a running job shows as stalled: 40 heartbeats (10 min by default)."""
    return 40 * settings.heartbeat


def cmd_jobs(args: argparse.Namespace) -> int:
    from pipeline.jobs import list_jobs

    settings = settings_from(args)
    statuses = list_jobs(_store(settings), _stall_after(settings))
    if args.json:
        print(json.dumps([s.to_dict() for s in statuses], indent=1))
        return 0
    print(_table([[s.job_id, "stalled" if s.stalled_since else s.state, str(s.priority), s.created, s.title[:48]]
                  for s in statuses],
                 ["JOB", "STATE", "PRIO", "CREATED", "TITLE"]))
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    from pipeline.jobs import cancel_job

    settings = settings_from(args)
    print(f"{cancel_job(_store(settings), args.job)} cancelled")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from pipeline.jobs import retry_job

    settings = settings_from(args)
    if not args.here:
        _use(settings)
    store = _store(settings)
    job_id = store.find_job(args.job)
    if _qa_retry(store, job_id):   # a finished book with chunks that failed QA: exactly those again
        from pipeline.qa_stage import retry_qa_failed

        work = retry_qa_failed(store, job_id, store.spec(job_id).chunks_per_task)
    else:
        job_id, work = retry_job(store, job_id, _stall_after(settings))
    n = 0 if work is None else sum(len(u.positions) for units in work.values() for u in units)
    if args.here:
        return _retry_here(store, job_id, settings, n)
    _enqueue(store, job_id)
    print(f"{job_id} queued again" + ("" if work is None else f": {n} chunks, {len(work)} chapters"))
    return 0


def _retry_here(store, job_id: str, settings, n: int) -> int:
    """The retried job's remaining work in this process; prints the book and the QA counts."""
    from tqdm.contrib.logging import logging_redirect_tqdm

    from pipeline import steps
    from worker.cli import delivery
    from worker.engine import current_engine

    print(f"{job_id}: {n} chunks again", file=sys.stderr)
    with delivery.closing_job(store, job_id), logging_redirect_tqdm(), _quiet("model.tts"):
        out = steps.run_all(store, job_id, current_engine(settings), _embedded_call(settings))
    if out is None:
        print(f"tomecast: failed: {store.state(job_id).error}", file=sys.stderr)
        return 1
    print(out)
    failed = len(store.manifest(job_id).qa_failed())
    print(f"QA: {failed} chunk{'s' if failed != 1 else ''} still failing; `tomecast report {job_id}`", file=sys.stderr)
    return 0


def _qa_retry(store, job_id: str) -> bool:
    from pipeline.states import JobState

    return store.state(job_id).state == JobState.DONE and store.has_manifest(job_id) and \
        bool(store.manifest(job_id).qa_failed())


def cmd_worker(args: argparse.Namespace) -> int:
    from worker.run import run_worker

    settings = settings_from(args)
    queues = [q.strip() for q in args.queues.split(",") if q.strip()]
    return run_worker(settings, queues, concurrency=args.concurrency, name=args.name, loglevel=args.loglevel)


