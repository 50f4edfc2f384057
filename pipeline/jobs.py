"""Job requests and their life cycle: submit, status, cancel, retry, list. Plain functions, no torch, no Celery.

``submit_job`` only validates the request and writes the job folder; queueing it (``worker.tasks.enqueue``) or
running it in this process (``pipeline.steps.run_all``) is the caller's choice.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import ClipError, JobStateError, PipelineError
from pipeline.manifest import WorkUnit
from pipeline.spec import JobOptions, JobSpec
from pipeline.states import JobState
from pipeline.status import JobStatus, summarize
from pipeline.store import Store, now_iso

__all__ = ["cancel_job", "job_status", "list_jobs", "retry_job", "submit_job", "validate_request"]

RETRYABLE = (JobState.FAILED, JobState.CANCELLED)


def validate_request(book: str | Path, options: JobOptions,
                     voice: str | Path | None = None) -> tuple[Path, Path | None]:
    """Check a request before anything is written or queued: the book and voice files, the sampling parameters.

    Returns the (expanded) book and voice paths. Raises a one-line error naming the file or parameter."""
    book = Path(book).expanduser()
    if not book.is_file():
        raise PipelineError(f"book file {str(book)!r} does not exist or is not a file")
    voice_path = Path(voice).expanduser() if voice else None
    if voice_path is not None and not voice_path.is_file():
        raise ClipError(f"voice clip {str(voice_path)!r} does not exist or is not a file")
    if voice_path is not None and voice_path.suffix.lower() != ".voice":
        from pipeline.clips import probe_sample_rate

        probe_sample_rate(voice_path)  # a clip ffmpeg cannot read fails here, naming the user's file
    options.sampling.validate()        # model.errors.ParamsError, one line naming the parameter
    return book, voice_path


def submit_job(store: Store, book: str | Path, options: JobOptions, *, voice: str | Path | None = None) -> str:
    """Create a job folder for ``book`` (copying the book and the voice clip into it); returns the job id.

    ``voice``: a clip or .voice file; None: the model's built-in voice. Nothing is written when the request is
    unusable (see ``validate_request``)."""
    book, voice_path = validate_request(book, options, voice)
    job_id, _ = store.new_job()
    store.copy_input(job_id, book)
    voice_file = None
    if voice_path is not None:
        voice_file = "voice" + voice_path.suffix.lower()
        store.copy_input(job_id, voice_path, voice_file)
    store.write_spec(JobSpec(id=job_id, name=book.name, created=now_iso(), book_file=book.name,
                             voice_file=voice_file, voice_source=str(voice_path) if voice_path else None,
                             options=options))
    store.update_state(job_id, state=JobState.QUEUED, title=book.stem)
    return job_id


def job_status(store: Store, job_id: str) -> JobStatus:
    job_id = store.find_job(job_id)
    manifest = store.manifest(job_id) if store.has_manifest(job_id) else None
    return summarize(store.spec(job_id), store.state(job_id), manifest)


def list_jobs(store: Store) -> list[JobStatus]:
    return [job_status(store, j) for j in store.job_ids()]


def cancel_job(store: Store, job_id: str) -> str:
    """Mark the job cancelled: its queued tasks find that out and do nothing."""
    job_id = store.find_job(job_id)
    record = store.state(job_id)
    if record.final:
        raise JobStateError(f"job {job_id} is already {record.state}")
    store.update_state(job_id, state=JobState.CANCELLED, finished=now_iso(), force=True)
    return job_id


def retry_job(store: Store, job_id: str) -> tuple[str, dict[int, list[WorkUnit]] | None]:
    """Set a failed or cancelled job going again: failed chunks (only those, plus any never made) back to pending.

    Returns (job id, work by chapter), or (job id, None) when the job never got prepared and must start over."""
    job_id = store.find_job(job_id)
    state = store.state(job_id).state
    if state not in RETRYABLE:
        raise JobStateError(f"job {job_id} is {state}; only failed or cancelled jobs can be retried")
    if not store.has_manifest(job_id):
        store.update_state(job_id, state=JobState.QUEUED, error=None, force=True)
        return job_id, None
    manifest = store.update_manifest(job_id, lambda m: m.with_failures_reset())
    store.update_state(job_id, state=JobState.SYNTHESIZING, error=None, synth_started=now_iso(), force=True)
    return job_id, manifest.pending_work(store.spec(job_id).chunks_per_task)
