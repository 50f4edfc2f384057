"""Job requests and their life cycle: submit, status, cancel, retry, list. Plain functions, no torch, no Celery.

``submit_job`` only validates the request and writes the job folder; queueing it (``worker.tasks.enqueue``) or
running it in this process (``pipeline.steps.run_all``) is the caller's choice.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

from model.turbo.checkpoint import is_turbo_source
from pipeline.errors import ClipError, JobStateError, PipelineError, SpecError
from pipeline.limits import check_book_size
from pipeline.manifest import WorkUnit
from pipeline.schedule import RESENDS_FILE
from pipeline.spec import JobOptions, JobSpec, embed_lexicon, prepare_fields
from pipeline.states import JobState
from pipeline.status import STALL_AFTER_S, JobStatus, summarize
from pipeline.store import Store, now_iso

__all__ = ["cancel_job", "job_status", "list_jobs", "remove_job", "retry_job", "submit_job", "validate_request"]

RETRYABLE = (JobState.FAILED, JobState.CANCELLED)
MAX_BOOK_MB = 50.0


def _text_options(options: JobOptions) -> JobOptions:
    """``options`` with the text options checked (``PrepareOptions``' own checks, a Turbo model for tags=keep)
    and the lexicon files embedded (``pipeline.spec.embed_lexicon``: job.json carries them to every worker)."""
    from text_prep.tags import TagsPolicy
    from text_prep.types import PrepareOptions

    prepare = dict(options.prepare)
    if "lexicon" in prepare:
        prepare["lexicon"] = embed_lexicon(prepare["lexicon"])
    try:
        text = PrepareOptions(**prepare_fields(prepare))
    except TypeError as exc:
        raise SpecError(f"text options {sorted(prepare)}: {exc}") from None
    if text.tags == TagsPolicy.KEEP and not is_turbo_source(options.model):
        raise SpecError(f"tags=keep needs a Turbo model (ResembleAI/chatterbox-turbo or a folder in its layout); "
                        f"{options.model!r} would read the tags aloud")
    return dataclasses.replace(options, prepare=prepare)


def _check_readable(book: Path, options: JobOptions) -> None:
    """Parse ``book`` with its format's reader (no sentence splitting or chunking), so a corrupt EPUB or a binary
    .txt fails at submit, naming the user's file, instead of in prepare on a worker."""
    from text_prep.errors import TextPrepError
    from text_prep.readers import read_document
    from text_prep.types import PrepareOptions

    try:
        read_document(book, PrepareOptions(**prepare_fields(options.prepare)))
    except TextPrepError as exc:
        if str(book) in str(exc):
            raise
        raise type(exc)(f"{exc}: {str(book)!r}") from None   # some reader messages name only the member


def validate_request(book: str | Path, options: JobOptions, voice: str | Path | None = None, *,
                     max_book_mb: float = MAX_BOOK_MB) -> tuple[Path, Path | None]:
    """Check a request before anything is written or queued: the book and voice files, the book's size, the
    sampling parameters, that the book's reader can parse it.

    Returns the (expanded) book and voice paths. Raises a one-line error naming the file or parameter."""
    book = Path(book).expanduser()
    if not book.is_file():
        raise PipelineError(f"book file {str(book)!r} does not exist or is not a file")
    check_book_size(book, max_book_mb)
    voice_path = Path(voice).expanduser() if voice else None
    if voice_path is not None and not voice_path.is_file():
        raise ClipError(f"voice clip {str(voice_path)!r} does not exist or is not a file")
    if voice_path is not None and voice_path.suffix.lower() != ".voice":
        from pipeline.clips import probe_sample_rate

        probe_sample_rate(voice_path)  # a clip ffmpeg cannot read fails here, naming the user's file
    options.sampling.validate()        # model.errors.ParamsError, one line naming the parameter
    _check_readable(book, _text_options(options))   # text_prep's errors (a bad lexicon line, an unreadable book)
    return book, voice_path


def submit_job(store: Store, book: str | Path, options: JobOptions, *, voice: str | Path | None = None,
               max_book_mb: float = MAX_BOOK_MB) -> str:
    """Create a job folder for ``book`` (copying the book and the voice clip into it); returns the job id.

    ``voice``: a clip or .voice file; None: the model's built-in voice. Nothing is written when the request is
    unusable (see ``validate_request``)."""
    book, voice_path = validate_request(book, options, voice, max_book_mb=max_book_mb)
    options = _text_options(options)
    job_id, _ = store.new_job()
    store.copy_input(job_id, book)
    voice_file = None
    if voice_path is not None:
        voice_file = "voice" + voice_path.suffix.lower()
        store.copy_input(job_id, voice_path, voice_file)
    store.write_spec(JobSpec(id=job_id, name=book.name, created=now_iso(), book_file=book.name,
                             voice_file=voice_file, voice_source=str(voice_path) if voice_path else None,
                             options=options, book_source=str(book)))
    store.update_state(job_id, state=JobState.QUEUED, title=book.stem)
    return job_id


def job_status(store: Store, job_id: str, stall_after: float = STALL_AFTER_S) -> JobStatus:
    """The job's status; a job with no sign of life (no document written, no task heartbeat) for ``stall_after``
    seconds is shown stalled since then, without an ETA."""
    job_id = store.find_job(job_id)
    manifest = store.manifest(job_id) if store.has_manifest(job_id) else None
    return summarize(store.spec(job_id), store.state(job_id), manifest, last_activity=store.last_activity(job_id),
                     stall_after=stall_after)


def list_jobs(store: Store, stall_after: float = STALL_AFTER_S) -> list[JobStatus]:
    return [job_status(store, j, stall_after) for j in store.job_ids()]


def remove_job(store: Store, job_id: str, *, force: bool = False) -> str:
    """Delete a job's folder (its copies of the inputs, documents, chapter files and M4B; the caches stay). A job
    that is still running is refused unless ``force``: cancel it first."""
    job_id = store.find_job(job_id)
    status = job_status(store, job_id)
    if not force and status.state not in (*RETRYABLE, JobState.DONE) and not status.stalled_since:
        raise JobStateError(f"job {job_id} is {status.state}; cancel it first (or pass --force)")
    shutil.rmtree(store.job_dir(job_id))
    return job_id


def cancel_job(store: Store, job_id: str) -> str:
    """Mark the job cancelled: its queued tasks find that out and do nothing."""
    job_id = store.find_job(job_id)
    record = store.state(job_id)
    if record.final:
        raise JobStateError(f"job {job_id} is already {record.state}")
    store.update_state(job_id, state=JobState.CANCELLED, finished=now_iso(), force=True)
    return job_id


def retry_job(store: Store, job_id: str,
              stall_after: float = STALL_AFTER_S) -> tuple[str, dict[int, list[WorkUnit]] | None]:
    """Set a failed, cancelled or stalled job going again: failed chunks (only those, plus any never made) back to
    pending. A job that failed for a full disk is refused (one line, how much more it needs) until space is freed.

    Returns (job id, work by chapter), or (job id, None) when the job never got prepared and must start over."""
    from pipeline.space import check_space

    job_id = store.find_job(job_id)
    status = job_status(store, job_id, stall_after)
    if status.state not in RETRYABLE and not status.stalled_since:
        idle = time.time() - store.last_activity(job_id)
        raise JobStateError(f"job {job_id} is {status.state} (last progress {idle:.0f} s ago); only failed, "
                            f"cancelled or stalled jobs can be retried")
    (store.job_dir(job_id) / RESENDS_FILE).unlink(missing_ok=True)   # the watchdog's count starts again
    if not store.has_manifest(job_id):
        store.update_state(job_id, state=JobState.QUEUED, error=None, force=True)
        return job_id, None
    check_space(store, store.manifest(job_id))
    shutil.rmtree(store.job_dir(job_id) / "claims", ignore_errors=True)   # follow-ups may be dispatched anew
    manifest = store.update_manifest(job_id, lambda m: m.with_failures_reset())
    store.update_state(job_id, state=JobState.SYNTHESIZING, error=None, synth_started=now_iso(), force=True)
    return job_id, manifest.pending_work(store.spec(job_id).chunks_per_task)
