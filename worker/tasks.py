"""Thin Celery tasks over ``pipeline.steps``: each takes a job id (and a chapter, chunk positions), is
idempotent, and names the book, chapter and chunk range in its arguments so Flower reads like a to-do list.

No step waits on a callback the broker holds (a chord's counter is lost with a broker restart). Each task
dispatches what its own result makes ready, from the manifest (``pipeline.schedule``)::

    prepare ──> synthesize(ch, chunks) ... ──(last of a chapter)──> stitch_chapter(ch) ──(last chapter)──> assemble_book

With a QA queue (``JobSpec.qa_queue``) synthesize makes first takes only and sends each batch to ``check_chunks`` on
that queue; a check sends the chunks that need new takes back to synthesize (repaired there, with the engine), and
the last check of a chapter sends its stitch::

    synthesize(ch, chunks) ──> check_chunks(ch, batch) ──(new takes needed)──> synthesize(ch, those) ...
                                                      ──(last of a chapter)──> stitch_chapter(ch)

A synthesize task holds up to a GPU's batch of chunks (``Settings.chunks_per_task``); a worker that would not fill
such a batch (no CUDA, or a batch size given) makes its ``Settings.task_share`` and queues the rest as smaller
tasks, ahead of later chapters. The watchdog (``worker.watchdog``) dispatches again whatever has no live task.
While it runs, a task holds a lease (``pipeline.leases``) whose heartbeat shows it alive. A task never fails for
its progress reports; a full disk marks the job failed with how much more it needs; transient broker and disk
errors are retried with backoff; any other error escaping a step marks the job failed with it (one line), so
nothing is redone in a loop.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import time
from collections.abc import Iterator

from celery import signals

from pipeline import qa_queue, steps
from pipeline.errors import JobNotFoundError, TransientError
from pipeline.files import is_disk_full
from pipeline.leases import Lease, live_steps
from pipeline.schedule import Step, StepKind, remaining, uncovered
from pipeline.space import fail_disk_full
from pipeline.states import JobState, StitchOutcome
from pipeline.store import Store, now_iso
from worker import engine
from worker.app import CPU_QUEUE, app, celery_priority, current_settings

__all__ = ["assemble_book", "check_chunks", "dispatch", "enqueue", "prepare", "stitch_chapter", "synthesize"]

log = logging.getLogger(__name__)

# OSErrors worth retrying as they are (a network filesystem's hiccup), unlike a missing file or a full disk
_TRANSIENT_ERRNOS = frozenset({errno.EIO, errno.EAGAIN, errno.ESTALE, errno.ETIMEDOUT, errno.EBUSY, errno.EINTR})
# a publish is retried this long before the task itself is retried (then the watchdog)
_PUBLISH_RETRY = {"max_retries": 10, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 5.0}
_RETRY = dict(autoretry_for=(TransientError,), max_retries=6, retry_backoff=2, retry_backoff_max=120,
              retry_jitter=True)


def _store() -> Store:
    return Store(current_settings().data_dir)


def _engine() -> engine.Engine:
    return engine.current_engine(current_settings())


def _stale_s() -> float:
    return 4 * current_settings().heartbeat


@contextlib.contextmanager
def _running(store: Store, job_id: str, step: Step) -> Iterator[None]:
    """Hold the step's lease while it runs; a full disk fails the job (one line, how much more is needed) and
    ends the task; broker and disk hiccups become ``TransientError`` (retried with backoff)."""
    try:
        with Lease(store, job_id, step, current_settings().heartbeat):
            yield
    except TransientError:
        raise
    except JobNotFoundError:   # removed (`tomecast rm`) while its tasks were queued: nothing to do
        log.info("job %s no longer exists: %s skipped", job_id, step.name)
    except Exception as exc:
        if is_disk_full(exc):
            fail_disk_full(store, job_id)
            return
        if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS or _is_broker_error(exc):
            raise TransientError(f"{step.name} of job {job_id}: {type(exc).__name__}: {exc}") from exc
        _fail(store, job_id, step, exc)   # visible in `tomecast status`; the watchdog leaves a failed job alone
        raise


def _fail(store: Store, job_id: str, step: Step, exc: Exception) -> None:
    with contextlib.suppress(Exception):
        if not store.state(job_id).final:
            msg = store.user_terms(store.spec(job_id), f"{step.name}: {type(exc).__name__}: {exc}")
            store.update_state(job_id, state=JobState.FAILED, error=msg.splitlines()[0][:500], finished=now_iso())


def _is_broker_error(exc: BaseException) -> bool:
    import redis
    from kombu.exceptions import OperationalError

    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, OperationalError, ConnectionError))


def _report(task, meta: dict, text: str) -> None:
    """Progress for Flower and ``AsyncResult.info``; a broker that is away loses the report, never the task."""
    try:
        task.update_state(state="PROGRESS", meta=meta)
        task.send_event("task-progress", result=text)
    except Exception as exc:  # noqa: BLE001 - progress is best effort by design
        log.warning("progress report lost (%s: %s); the task goes on", type(exc).__name__, exc)


@app.task(name="tomecast.prepare", bind=True, **_RETRY)
def prepare(self, job_id: str, book: str = "") -> int:
    """Plan the book and its voice, then dispatch every step still needed. Returns the number of chunks queued."""
    store = _store()
    settings = current_settings()
    with _running(store, job_id, Step(StepKind.PREPARE)):
        steps.prepare_job(store, job_id, _engine())
        from pipeline.limits import check_book_length

        check_book_length(store, job_id, settings.max_book_hours)
        todo = remaining(store, job_id, store.spec(job_id).chunks_per_task)
        dispatch(store, job_id, todo)
        return sum(len(s.positions) for s in todo)
    return 0


@app.task(name="tomecast.synthesize", bind=True, **_RETRY)
def synthesize(self, job_id: str, chapter: int, positions: list[int], book: str = "", chapter_title: str = "",
               chunks: str = "") -> dict:
    """Make the audio of chunks ``positions`` of ``chapter`` (with a QA queue: first takes, then their checks are
    queued there), then queue the chapter's stitch if it is ready."""
    store = _store()
    done = {"chunks": 0, "audio_s": 0.0}

    def progress(n: int, seconds: float) -> None:
        done["chunks"] += n
        done["audio_s"] += seconds
        meta = {"done": done["chunks"], "total": len(positions), "audio_s": round(done["audio_s"], 2)}
        _report(self, meta, f"{meta['done']}/{meta['total']} chunks, {meta['audio_s']} s audio")

    out = {}
    started = time.monotonic()
    share = current_settings().task_share(_on_cuda())
    rest: list[Step] = []
    if share is not None and len(positions) > share:   # a task sized for a GPU's batch: the rest for other workers
        # (a retry's rest was queued by its first run; the watchdog covers a loss)
        if not self.request.retries:
            rest = Step(StepKind.SYNTHESIZE, chapter, tuple(positions[share:])).pieces(share)
            log.info("job %s: chapter %d: %d chunks in this task; this worker takes %d and queues the rest", job_id,
                     chapter, len(positions), share)
        positions = positions[:share]
    with _running(store, job_id, Step(StepKind.SYNTHESIZE, chapter, tuple(positions))):
        dispatch(store, job_id, rest, sooner=True)   # ahead of later chapters, as the one task would have been
        r = steps.synthesize_chunks(store, job_id, chapter, positions, _engine(), current_settings().chunks_per_call,
                                    progress, qa_queue=bool(store.spec(job_id).qa_queue))
        if r.skipped:   # dispatched pending, found made: a redelivered or re-dispatched copy of the task
            log.info("job %s: chapter %d: %d of chunks %s were already made (a duplicate delivery): not redone",
                     job_id, chapter, r.skipped, chunks or positions)
            store.count_duplicates(job_id, r.skipped)
        out = {"synthesized": r.synthesized, "skipped": r.skipped, "failed": r.failed,
               "audio_s": round(r.audio_seconds, 2), "to_check": sum(len(b) for b in r.to_check)}
        _warn_if_long(time.monotonic() - started, len(positions))
        dispatch(store, job_id, [Step(StepKind.CHECK, chapter, batch) for batch in r.to_check])
        _follow_up(store, job_id, Step(StepKind.STITCH, chapter))
    return out


@functools.cache
def _on_cuda() -> bool:
    """Whether this worker's engine runs on CUDA (its device setting resolved once; torch is loaded here anyway)."""
    from model.device import resolve_device
    from model.errors import DeviceError

    try:
        return resolve_device(current_settings().device).type == "cuda"
    except DeviceError:  # a device that cannot be had fails the model load, with its own message
        return False


def _warn_if_long(seconds: float, n: int) -> None:
    limit = current_settings().visibility_timeout
    if seconds > limit / 2:
        log.warning("a synthesize task of %d chunks took %.0f s, over half the visibility timeout (%d s): lower "
                    "TOMECAST_CHUNKS_PER_TASK or raise TOMECAST_VISIBILITY_TIMEOUT", n, seconds, limit)


@app.task(name="tomecast.check_chunks", bind=True, **_RETRY)
def check_chunks(self, job_id: str, chapter: int, positions: list[int], book: str = "", chapter_title: str = "",
                 chunks: str = "") -> dict:
    """Check the first takes of chunks ``positions`` of ``chapter`` (no speech engine), send those that need new
    takes back to synthesize, then queue the chapter's stitch if it is ready."""
    store = _store()
    out = {}
    with _running(store, job_id, Step(StepKind.CHECK, chapter, tuple(positions))):
        r = qa_queue.check_chunks(store, job_id, chapter, positions)
        out = {"checked": r.checked, "skipped": r.skipped, "failed": r.failed, "retakes": r.retakes,
               "resend": list(r.resend)}
        if r.resend:   # ahead of the job's other synthesis: its chapter waits for them to be stitched
            dispatch(store, job_id, [Step(StepKind.SYNTHESIZE, chapter, r.resend)], sooner=True)
        _follow_up(store, job_id, Step(StepKind.STITCH, chapter))
    return out


@app.task(name="tomecast.stitch_chapter", bind=True, **_RETRY)
def stitch_chapter(self, job_id: str, chapter: int, book: str = "", chapter_title: str = "") -> dict:
    """Stitch one chapter, then queue the book's assembly if it was the last; chunks whose cached audio was found
    bad are queued for synthesis again (their last task queues this stitch again)."""
    store = _store()
    out = {}
    with _running(store, job_id, Step(StepKind.STITCH, chapter)):
        r = steps.stitch_chapter(store, job_id, chapter)
        out = {"state": r.state, "stitched": r.stitched, "duration_s": r.duration}
        if r.state == StitchOutcome.WAITING:
            cpt = store.spec(job_id).chunks_per_task
            mine = [s for s in remaining(store, job_id, cpt) if s.chapter == chapter]
            dispatch(store, job_id, uncovered(mine, live_steps(store, job_id, _stale_s()), cpt))
        elif r.state in (StitchOutcome.DONE, StitchOutcome.FAILED):
            _follow_up(store, job_id, Step(StepKind.ASSEMBLE))
    return out


@app.task(name="tomecast.assemble_book", bind=True, **_RETRY)
def assemble_book(self, job_id: str, book: str = "") -> str | None:
    store = _store()
    with _running(store, job_id, Step(StepKind.ASSEMBLE)):
        out = steps.assemble_book(store, job_id)
        return None if out is None else str(out)
    return None


def _follow_up(store: Store, job_id: str, step: Step) -> None:
    """Dispatch ``step`` if the manifest says it is due now, once among tasks finishing together."""
    if step in remaining(store, job_id, store.spec(job_id).chunks_per_task) and \
            store.claim(job_id, step.name, ttl_s=_stale_s()):
        dispatch(store, job_id, [step])


_TASKS = {StepKind.PREPARE: "prepare", StepKind.SYNTHESIZE: "synthesize", StepKind.CHECK: "check_chunks",
          StepKind.STITCH: "stitch_chapter", StepKind.ASSEMBLE: "assemble_book"}


def dispatch(store: Store, job_id: str, todo: list[Step], *, sooner: bool = False) -> None:
    """Queue one task per step, at the job's priority (``sooner``: one above), a check on the job's QA queue;
    publishing retries for a while if the broker is away."""
    if not todo:
        return
    spec = store.spec(job_id)
    prio = celery_priority(min(9, spec.priority + sooner))
    title = store.state(job_id).title or spec.name
    plan = steps.load_plan(store, job_id) if any(s.chapter is not None for s in todo) else None
    for s in todo:
        kwargs: dict = {"book": title}
        args: tuple = (job_id,)
        if s.chapter is not None:
            args += (s.chapter,)
            kwargs["chapter_title"] = plan.chapters[s.chapter].title
        route = {}
        if s.kind in (StepKind.SYNTHESIZE, StepKind.CHECK):
            args += (list(s.positions),)
            kwargs["chunks"] = f"{s.positions[0]}-{s.positions[-1]}"
        if s.kind == StepKind.CHECK:   # (a job without a QA queue has no unchecked chunk; any CPU worker can check)
            route = {"queue": spec.qa_queue or CPU_QUEUE}
        task = globals()[_TASKS[s.kind]]
        task.apply_async(args, kwargs, priority=prio, retry=True, retry_policy=_PUBLISH_RETRY, **route)


def enqueue(store: Store, job_id: str) -> None:
    """Queue a job's prepare task. For a job prepared before (a retry), prepare finds the manifest and dispatches
    what is left: pending chunks, chapters not stitched, the book."""
    spec = store.spec(job_id)
    if store.state(job_id).state == JobState.CANCELLED:
        return
    prepare.apply_async((job_id,), {"book": spec.name}, priority=celery_priority(spec.priority),
                        retry=True, retry_policy=_PUBLISH_RETRY)


@signals.task_postrun.connect
def _release_engine(**_) -> None:
    """Free per-task memory (caches, allocator) after every task; the weights stay loaded."""
    engine.release_loaded()
