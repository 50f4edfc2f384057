"""What ``tomecast status`` shows for a job: counts, audio made, an ETA and the errors, from its documents."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipeline.manifest import Manifest
from pipeline.record import JobRecord
from pipeline.spec import JobSpec
from pipeline.states import ChapterState, ChunkState, JobState

__all__ = ["STALL_AFTER_S", "JobStatus", "summarize"]

# A running job silent this long (no document written, no task heartbeat) is shown stalled: no worker is on it,
# or its messages were lost (the watchdog of a running worker dispatches them again; `tomecast retry` does too).
STALL_AFTER_S = 600.0


@dataclass(frozen=True)
class JobStatus:
    job_id: str
    title: str
    state: JobState
    priority: int
    created: str
    chapters_done: int = 0
    chapters: int = 0
    chunks_done: int = 0
    chunks_failed: int = 0
    chunks: int = 0
    chunks_cached: int = 0
    audio_seconds: float = 0.0
    eta_seconds: float | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)
    output: str | None = None
    stalled_since: str | None = None   # ISO time of the last sign of life of a running job that has gone quiet
    duplicates: int = 0                # chunks found already made by a redelivered or re-dispatched task
    chunks_unchecked: int = 0          # made, waiting for their check on the job's QA queue

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return None


def summarize(spec: JobSpec, record: JobRecord, manifest: Manifest | None, *, last_activity: float | None = None,
              stall_after: float = STALL_AFTER_S, now: float | None = None) -> JobStatus:
    """Counts, audio made so far, and an ETA from the synthesis rate since synthesis started; a running job with
    no sign of life since ``last_activity`` (epoch) for ``stall_after`` seconds is stalled, with no ETA."""
    now = time.time() if now is None else now
    stalled = None
    if not record.final and last_activity and now - last_activity > stall_after:
        stalled = datetime.fromtimestamp(last_activity, UTC).isoformat(timespec="seconds")
    base = dict(job_id=spec.id, title=record.title or spec.name, state=record.state, priority=spec.priority,
                created=spec.created, output=record.output, stalled_since=stalled, duplicates=record.duplicates or 0)
    errors = [record.error] if record.error else []
    if manifest is None:
        return JobStatus(**base, errors=tuple(errors))
    done = [c for c in manifest.chunks if c.state == ChunkState.DONE]
    failed = [c for c in manifest.chunks if c.state == ChunkState.FAILED]
    made = [c for c in done if c.synthesized]
    audio = sum(c.duration or 0.0 for c in done)
    errors = [f"chunk {c.id}: {c.error}" for c in failed if c.error] + errors
    eta = None
    started = _epoch(record.synth_started)
    pending = len(manifest.chunks) - len(done) - len(failed)
    if record.state in (JobState.SYNTHESIZING, JobState.QUEUED) and started and made and pending and not stalled:
        rate = len(made) / max(now - started, 1e-3)
        eta = pending / rate
    return JobStatus(**base, chapters_done=sum(ch.state == ChapterState.DONE for ch in manifest.chapters),
                     chapters=len(manifest.chapters), chunks_done=len(done), chunks_failed=len(failed),
                     chunks=len(manifest.chunks), chunks_cached=len(done) - len(made), audio_seconds=audio,
                     eta_seconds=eta, errors=tuple(errors), chunks_unchecked=manifest.count(ChunkState.UNCHECKED))
