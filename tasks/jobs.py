"""Job requests and their life cycle: submit, status, cancel, retry, list. Plain functions, no torch, no Celery.

``submit_job`` only writes the job folder; queueing it (``tasks.book.enqueue``) or running it in this process
(``tasks.pipeline.run_all``) is the caller's choice.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tasks.errors import ClipError, JobStateError, TaskError
from tasks.manifest import JobStatus, WorkUnit, pending_work, summarize
from tasks.store import FINAL_STATES, Store, now_iso
from worker.settings import Settings

__all__ = ["cancel_job", "job_status", "list_jobs", "retry_job", "submit_job"]

PRIORITIES = range(0, 10)


def submit_job(store: Store, book: str | Path, settings: Settings, *, voice: str | Path | None = None,
               priority: int = 5, prepare: dict | None = None) -> str:
    """Create a job folder for ``book`` (copying the book and the voice clip into it); returns the job id."""
    book = Path(book).expanduser()
    if not book.is_file():
        raise TaskError(f"book file {str(book)!r} does not exist or is not a file")
    voice = voice if voice is not None else settings.voice
    voice_path = Path(voice).expanduser() if voice else None
    if voice_path is not None and not voice_path.is_file():
        raise ClipError(f"voice clip {str(voice_path)!r} does not exist or is not a file")
    if voice_path is not None and voice_path.suffix.lower() != ".voice":
        from tasks.clips import probe_sample_rate

        probe_sample_rate(voice_path)  # a clip ffmpeg cannot read fails here, naming the user's file
    if priority not in PRIORITIES:
        raise TaskError(f"priority {priority} is not in 0..9 (9 runs first)")
    job_id, folder = store.new_job()
    store.copy_input(job_id, book)
    if voice_path is not None:
        store.copy_input(job_id, voice_path, "voice" + voice_path.suffix.lower())
    spec = {
        "id": job_id,
        "name": book.name,
        "created": now_iso(),
        "book_file": book.name,
        "voice_file": ("voice" + voice_path.suffix.lower()) if voice_path else None,
        "voice_source": str(voice_path) if voice_path else None,
        "priority": priority,
        "seed": settings.seed,
        "model": settings.model,
        "revision": settings.revision,
        "sampling": settings.sampling.to_dict(),
        "stitching": settings.stitching.to_dict(),
        "chunks_per_task": settings.chunks_per_task,
        "prepare": dict(prepare or {}),
    }
    store.write_json(job_id, "job.json", spec)
    store.update_state(job_id, state="queued", title=book.stem)
    return job_id


def job_status(store: Store, job_id: str) -> JobStatus:
    job_id = store.find_job(job_id)
    manifest = store.manifest(job_id) if store.has_manifest(job_id) else None
    return summarize(job_id, store.spec(job_id), store.state(job_id), manifest)


def list_jobs(store: Store) -> list[JobStatus]:
    return [job_status(store, j) for j in store.job_ids()]


def cancel_job(store: Store, job_id: str) -> str:
    """Mark the job cancelled: its queued tasks find that out and do nothing."""
    job_id = store.find_job(job_id)
    state = store.state(job_id).get("state")
    if state in FINAL_STATES:
        raise JobStateError(f"job {job_id} is already {state}")
    store.update_state(job_id, state="cancelled", finished=now_iso(), force=True)
    return job_id


def retry_job(store: Store, job_id: str) -> tuple[str, dict[int, list[WorkUnit]] | None]:
    """Set a failed or cancelled job going again: failed chunks (only those, plus any never made) back to pending.

    Returns (job id, work by chapter), or (job id, None) when the job never got prepared and must start over."""
    job_id = store.find_job(job_id)
    state = store.state(job_id).get("state")
    if state not in ("failed", "cancelled"):
        raise JobStateError(f"job {job_id} is {state}; only failed or cancelled jobs can be retried")
    if not store.has_manifest(job_id):
        store.update_state(job_id, state="queued", error=None, force=True)
        return job_id, None

    def reset(doc: dict) -> None:
        for c in doc["chunks"]:
            if c["state"] == "failed":
                c["state"], c["error"] = "pending", None
        for ch in doc["chapters"]:
            if ch["state"] == "failed":
                ch["state"] = "pending"

    manifest = store.update_manifest(job_id, reset)
    store.update_state(job_id, state="synthesizing", error=None, synth_started=now_iso(), force=True)
    return job_id, pending_work(manifest, store.spec(job_id)["chunks_per_task"])


def status_dict(status: JobStatus) -> dict:
    return dataclasses.asdict(status)
