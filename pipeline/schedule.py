"""What a job still needs, read from its manifest (the source of truth), as steps to dispatch.

No step depends on a broker-held callback: ``prepare`` dispatches ``remaining``; a synthesize step that leaves its
chapter without pending chunks dispatches that chapter's stitch; a stitch that leaves no chapter pending
dispatches the assembly. With a QA queue a synthesize step dispatches the check of each batch it left unchecked,
a check dispatches the synthesize step of the chunks it sent back for new takes, and the last check of a chapter
its stitch. If a message is lost anyway (broker restart, dead worker), the watchdog
(``worker.watchdog``) compares ``remaining`` with the steps that have a live task (queued, reserved or holding a
lease) and dispatches exactly what is ``uncovered``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pipeline.states import ChapterState, ChunkState
from pipeline.store import Store

__all__ = ["RESENDS_FILE", "Resends", "Step", "StepKind", "count_resend", "next_resends", "remaining", "uncovered"]

RESENDS_FILE = "resends.json"   # in the job folder: the watchdog's count of re-sends without progress


class StepKind(StrEnum):
    PREPARE = "prepare"
    SYNTHESIZE = "synthesize"
    CHECK = "check_chunks"     # QA of unchecked first takes, on the job's QA queue
    STITCH = "stitch_chapter"
    ASSEMBLE = "assemble_book"


@dataclass(frozen=True)
class Step:
    """One task's worth of work: prepare, synthesize or check ``positions`` of ``chapter``, stitch ``chapter``,
    assemble."""

    kind: StepKind
    chapter: int | None = None
    positions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", StepKind(self.kind))
        object.__setattr__(self, "positions", tuple(int(p) for p in self.positions))

    @property
    def name(self) -> str:
        """A file-name-safe label: ``synthesize-2-4-7``, ``stitch_chapter-2``, ``assemble_book``."""
        parts = [str(self.kind)]
        if self.chapter is not None:
            parts.append(str(self.chapter))
        if self.positions:
            parts.append(f"{self.positions[0]}-{self.positions[-1]}")
        return "-".join(parts)

    def to_dict(self) -> dict:
        return {"kind": str(self.kind), "chapter": self.chapter, "positions": list(self.positions)}

    def pieces(self, size: int) -> list[Step]:
        """This step as consecutive steps of at most ``size`` positions each."""
        return _units(self.kind, self.chapter, list(self.positions), size)

    @classmethod
    def from_dict(cls, d: dict) -> Step:
        return cls(d["kind"], d.get("chapter"), tuple(d.get("positions") or ()))


def remaining(store: Store, job_id: str, chunks_per_task: int) -> list[Step]:
    """Every step the job still needs, in order; [] for a finished, failed or cancelled job. A chapter's pending
    chunks need synthesize steps, its unchecked ones check steps; its stitch is due once it has neither."""
    if store.state(job_id).final:
        return []
    if not store.has_manifest(job_id):
        return [Step(StepKind.PREPARE)]
    manifest = store.manifest(job_id)
    steps: list[Step] = []
    open_chapters = 0
    for ch in manifest.chapters:
        if ch.state != ChapterState.PENDING:
            continue
        open_chapters += 1
        chunks = manifest.chapter_chunks(ch.index)
        due = True
        for kind, state in ((StepKind.SYNTHESIZE, ChunkState.PENDING), (StepKind.CHECK, ChunkState.UNCHECKED)):
            todo = [c.position for c in chunks if c.state == state]
            steps += _units(kind, ch.index, todo, chunks_per_task)
            due = due and not todo
        if due:
            steps.append(Step(StepKind.STITCH, ch.index))
    if not open_chapters:
        steps.append(Step(StepKind.ASSEMBLE))
    return steps


def _units(kind: StepKind, chapter: int | None, positions: list[int], chunks_per_task: int) -> list[Step]:
    return [Step(kind, chapter, tuple(positions[i: i + chunks_per_task]))
            for i in range(0, len(positions), chunks_per_task)]


# a live step of these kinds will dispatch the others' work on the same positions when it ends: a synthesize step
# the check of what it left unchecked, a check step the synthesize step of what it sent back for new takes
_HANDS_ON = {StepKind.SYNTHESIZE: (StepKind.SYNTHESIZE, StepKind.CHECK),
             StepKind.CHECK: (StepKind.CHECK, StepKind.SYNTHESIZE)}


def uncovered(needed: Iterable[Step], live: Iterable[Step], chunks_per_task: int) -> list[Step]:
    """The part of ``needed`` that no live step will do. A live prepare covers everything (it dispatches what is
    left); a live synthesize or check of a chapter covers its positions for both kinds (each dispatches the
    other's work on them) and that chapter's stitch (it dispatches it); any live stitch, synthesize or check
    covers the assembly."""
    live = list(live)
    kinds = {s.kind for s in live}
    if StepKind.PREPARE in kinds:
        return []
    out: list[Step] = []
    for step in needed:
        if step.kind == StepKind.PREPARE:
            out.append(step)
        elif step.kind in _HANDS_ON:
            covered = {p for s in live if s.kind in _HANDS_ON[step.kind] and s.chapter == step.chapter
                       for p in s.positions}
            out += _units(step.kind, step.chapter, [p for p in step.positions if p not in covered], chunks_per_task)
        elif step.kind == StepKind.STITCH:
            if not any(s.chapter == step.chapter and s.kind in (StepKind.STITCH, *_HANDS_ON) for s in live):
                out.append(step)
        elif not kinds & {StepKind.ASSEMBLE, StepKind.STITCH, *_HANDS_ON}:
            out.append(step)
    return out


@dataclass(frozen=True)
class Resends:
    """How often the watchdog re-sent a job's work while its manifest stood at ``progress`` (what ``remaining``
    listed)."""

    progress: str
    count: int


def next_resends(last: Resends | None, needed: Iterable[Step]) -> Resends:
    """The count after one more re-send: back to 1 when the manifest moved (``needed`` changed) since the last."""
    progress = ",".join(s.name for s in needed)
    if last is None or last.progress != progress:
        return Resends(progress, 1)
    return Resends(progress, last.count + 1)


def count_resend(store: Store, job_id: str, needed: Iterable[Step]) -> int:
    """Record one more re-send of the job's work (``needed``: all it still needs) and return how many in a row
    found the manifest where it was. ``pipeline.jobs.retry_job`` removes the record."""
    path = store.job_dir(job_id) / RESENDS_FILE
    last = None
    with contextlib.suppress(FileNotFoundError, ValueError, KeyError, TypeError):
        d = json.loads(path.read_text())
        last = Resends(str(d["progress"]), int(d["count"]))
    now = next_resends(last, needed)
    store.write_text(job_id, RESENDS_FILE, json.dumps({"progress": now.progress, "count": now.count}))
    return now.count
