"""The watchdog: every worker runs one thread (no Celery beat) that, every 2 heartbeats, finds running jobs that
have gone quiet and dispatches again exactly the work of theirs that no live task will do.

A job is looked at when its documents and leases have been still for 4 heartbeats (``TOMECAST_HEARTBEAT``,
15 s: a minute). What it still needs comes from its manifest (``pipeline.schedule.remaining``); what is live is
what the broker holds (queued on gpu, cpu or the jobs' QA queues, or reserved within those 4 heartbeats) plus the
steps whose lease is fresh; the
rest is dispatched (``worker.tasks.dispatch``). So a lost message (broker restart without persistence, a chord-free
follow-up whose publish failed) or a dead worker's task (``SIGKILL``, machine lost) is redone within about a
minute of a worker running, not after the visibility timeout. A redelivered copy that arrives later finds its
chunks in the cache and does nothing. One worker at a time runs a pass (a short Redis lock).

Work that keeps failing (a transient error that exhausted its retries) would be re-sent forever: after
``TOMECAST_MAX_RESENDS`` re-sends in a row with the manifest unchanged the job fails instead, one line naming the
work; ``tomecast retry`` resets the count.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from pipeline.leases import drop_stale, live_steps
from pipeline.schedule import Step, count_resend, remaining, uncovered
from pipeline.states import JobState
from pipeline.store import Store, now_iso
from worker.settings import Settings

__all__ = ["check_jobs", "start"]

log = logging.getLogger(__name__)

LOCK_KEY = "tomecast:watchdog"
QUEUES = ("gpu", "cpu")


def check_jobs(settings: Settings, *, now: float | None = None) -> dict[str, list[Step]]:
    """One pass: job id -> the steps dispatched again."""
    from worker.broker import queued_steps
    from worker.tasks import dispatch

    now = time.time() if now is None else now
    stale = 4 * settings.heartbeat
    store = Store(settings.data_dir)
    quiet = []
    for job_id in store.job_ids():
        with contextlib.suppress(Exception):   # a job folder being written or removed: next pass
            if not store.state(job_id).final and now - store.last_activity(job_id) > stale:
                quiet.append(job_id)
    if not quiet:
        return {}
    held = queued_steps(settings.broker_url, _queues(settings, store, quiet), stale, now)
    out = {}
    for job_id in quiet:
        try:
            cpt = store.spec(job_id).chunks_per_task
            needed = remaining(store, job_id, cpt)
            todo = uncovered(needed, held.get(job_id, []) + live_steps(store, job_id, stale), cpt)
            drop_stale(store, job_id, stale)   # their work is about to be dispatched again, or was done
            if todo and count_resend(store, job_id, needed) > settings.max_resends:
                what = ", ".join(s.name for s in todo)
                error = (f"stalled: {what} re-sent {settings.max_resends} times without progress; "
                         f"run `tomecast retry {job_id}`")
                log.error("watchdog: job %s %s", job_id, error)
                store.update_state(job_id, state=JobState.FAILED, error=error, finished=now_iso())
            elif todo:
                log.warning("watchdog: job %s had no live task for %s since %.0f s; dispatching them again",
                            job_id, ", ".join(s.name for s in todo), now - store.last_activity(job_id))
                dispatch(store, job_id, todo)
                store.update_state(job_id)   # a sign of life: the next pass leaves it to the new tasks
                out[job_id] = todo
        except Exception as exc:  # noqa: BLE001 - one bad job must not stop the others' recovery
            log.error("watchdog: job %s: %s: %s", job_id, type(exc).__name__, exc)
    return out


def _queues(settings: Settings, store: Store, jobs: list[str]) -> tuple[str, ...]:
    """The queues that may hold these jobs' tasks: gpu, cpu, this worker's QA queue and each job's own."""
    names = [*QUEUES, settings.qa_queue]
    for job_id in jobs:
        with contextlib.suppress(Exception):
            names.append(store.spec(job_id).qa_queue)
    return tuple(dict.fromkeys(n for n in names if n))


def _lock(settings: Settings, ttl_s: float) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=5, socket_timeout=5)
        return bool(client.set(LOCK_KEY, "1", nx=True, px=max(int(ttl_s * 1000), 100)))
    except (redis.RedisError, OSError):
        return False   # the broker is away: nothing can be dispatched anyway


def _loop(settings: Settings, stop: threading.Event) -> None:
    interval = 2 * settings.heartbeat
    while True:
        try:
            if _lock(settings, interval * 0.8):
                check_jobs(settings)
        except Exception as exc:  # noqa: BLE001 - the watchdog outlives a broker or disk hiccup
            log.warning("watchdog pass failed: %s: %s", type(exc).__name__, exc)
        if stop.wait(interval):
            return


def start(settings: Settings) -> threading.Event:
    """Run the watchdog in a daemon thread of this process (a first pass at once); set the event to stop it."""
    stop = threading.Event()
    threading.Thread(target=_loop, args=(settings, stop), name="tomecast-watchdog", daemon=True).start()
    log.info("watchdog: every %.0f s, a job quiet for %.0f s gets its lost work dispatched again",
             2 * settings.heartbeat, 4 * settings.heartbeat)
    return stop
