"""The check step of a job with a QA queue: a CPU host hears the first takes the GPUs left unchecked.

``check_chunks`` runs ``pipeline.qa_stage.ChunkQA.check`` with no speech engine over one synthesized batch (the
chunks it names that are still unchecked): a take that passes, or passes once its tail is trimmed, is done with its
verdict (the same ``<cache>.qa.json`` and manifest qa fields as inline QA); a take whose repair needs new takes
goes back to pending with qa_state "retake" and its first take's scores, for the synthesize step (GPU) to repair
from the same take; a chunk whose cached take went bad is pending again, to be made anew. Idempotent: a chunk
that is no longer unchecked is left alone. No Celery here (``worker.tasks.check_chunks`` calls it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.errors import TransientError
from pipeline.files import wav_duration
from pipeline.qa_stage import ChunkQA, TakeRecord, retake_fields
from pipeline.states import ChunkState, JobState
from pipeline.store import Store
from qa.repair import NeedsTakes

__all__ = ["CheckResult", "check_chunks"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckResult:
    checked: int                        # chunks given their verdict here
    skipped: int                        # chunks not unchecked (checked by a copy of this step, or never handed)
    failed: int                         # chunks whose check raised (recorded failed, like a failed synthesis)
    resend: tuple[int, ...] = ()        # positions back to pending: new takes needed, or the cached take was bad
    retakes: int = 0                    # of those, sent back for new takes


def check_chunks(store: Store, job_id: str, chapter: int, positions: Sequence[int]) -> CheckResult:
    """Check the unchecked first takes among ``positions`` of ``chapter``, as one batch (one packed ASR call)."""
    from pipeline.steps import load_plan

    if store.state(job_id).state == JobState.CANCELLED:
        return CheckResult(0, 0, 0)
    spec, book = store.spec(job_id), load_plan(store, job_id)
    manifest = store.manifest(job_id)
    entries = [manifest.chunk(chapter, p) for p in positions]
    waiting = [e for e in entries if e.state == ChunkState.UNCHECKED]
    gone = [e for e in waiting if not store.chunk_ok(e.cache)]   # discarded (named in the log): made again
    batch = [e for e in waiting if e not in gone]
    qa = ChunkQA.for_job(store, job_id, spec, book, manifest)
    updates: dict[str, dict] = {e.id: {"state": ChunkState.PENDING, "duration": None} for e in gone}
    back = [e.position for e in gone]
    failed = retakes = 0
    alone = [e for e in batch if not qa.waiting_check(e)]   # audio made before QA: the checks alone, as inline
    with_take = [e for e in batch if e not in alone]
    try:
        fields = qa.cached(alone) if alone else {}
        takes = [qa.cached_take(e) for e in with_take]
        results = qa.check(with_take, takes, manifest.sample_rate, None) if with_take else []
    except TransientError:
        raise
    except Exception as exc:  # noqa: BLE001 - recorded per chunk, as a failed synthesis is
        log.error("job %s: chapter %d: checking chunks %s failed: %s", job_id, chapter, list(positions), exc)
        msg = f"QA: {type(exc).__name__}: {exc}"[:300]
        updates.update({e.id: {"state": ChunkState.FAILED, "error": msg} for e in batch})
        fields, takes, results, with_take, failed = {}, [], [], [], len(batch)
    updates.update({e.id: {"state": ChunkState.DONE, "error": None, **f} for e in alone if (f := fields.get(e.id))})
    for e, take, result in zip(with_take, takes, results, strict=True):
        if isinstance(result, NeedsTakes):   # the take stays, with the pace its repair will expect with
            TakeRecord(take, result.pace).save(store, e.cache)
            updates[e.id] = retake_fields(result)
            back.append(e.position)
            retakes += 1
            continue
        audio, verdict = result
        if not np.array_equal(audio, take.audio):   # trimmed: the kept audio replaces the first take
            store.write_chunk(e.cache, audio, manifest.sample_rate)
        verdict.save(store, e.cache)
        updates[e.id] = {"state": ChunkState.DONE, "error": None,
                         "duration": wav_duration(store.chunk_path(e.cache)), **verdict.manifest_fields()}
    if updates:
        store.update_manifest(job_id, lambda m: m.with_chunks(updates))
    checked = len(batch) - failed - retakes
    log.info("job %s: chapter %d: %d chunks checked, %d sent back for new takes", job_id, chapter, checked, retakes)
    return CheckResult(checked, len(entries) - len(waiting), failed, tuple(sorted(back)), retakes)

