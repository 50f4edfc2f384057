"""What a job still needs, read from its manifest (the source of truth), as steps to dispatch.

No step depends on a broker-held callback: ``prepare`` dispatches ``remaining``; a synthesize step that leaves its
chapter without pending chunks dispatches that chapter's stitch; a stitch that leaves no chapter pending
dispatches the assembly. If a message is lost anyway (broker restart, dead worker), the watchdog
(``worker.watchdog``) compares ``remaining`` with the steps that have a live task (queued, reserved or holding a
lease) and dispatches exactly what is ``uncovered``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pipeline.states import ChapterState, ChunkState
from pipeline.store import Store

__all__ = ["Step", "StepKind", "remaining", "uncovered"]


class StepKind(StrEnum):
    PREPARE = "prepare"
    SYNTHESIZE = "synthesize"
    STITCH = "stitch_chapter"
    ASSEMBLE = "assemble_book"


@dataclass(frozen=True)
class Step:
    """One task's worth of work: prepare, synthesize ``positions`` of ``chapter``, stitch ``chapter``, assemble."""

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

    @classmethod
    def from_dict(cls, d: dict) -> Step:
        return cls(d["kind"], d.get("chapter"), tuple(d.get("positions") or ()))


def remaining(store: Store, job_id: str, chunks_per_task: int) -> list[Step]:
    """Every step the job still needs, in order; [] for a finished, failed or cancelled job."""
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
        todo = [c.position for c in manifest.chapter_chunks(ch.index) if c.state == ChunkState.PENDING]
        if todo:
            steps += [Step(StepKind.SYNTHESIZE, ch.index, tuple(todo[i: i + chunks_per_task]))
                      for i in range(0, len(todo), chunks_per_task)]
        else:
            steps.append(Step(StepKind.STITCH, ch.index))
    if not open_chapters:
        steps.append(Step(StepKind.ASSEMBLE))
    return steps


def uncovered(needed: Iterable[Step], live: Iterable[Step], chunks_per_task: int) -> list[Step]:
    """The part of ``needed`` that no live step will do. A live prepare covers everything (it dispatches what is
    left); a live synthesize of a chapter covers its positions and that chapter's stitch (it dispatches it); any
    live stitch or synthesize covers the assembly."""
    live = list(live)
    kinds = {s.kind for s in live}
    if StepKind.PREPARE in kinds:
        return []
    out: list[Step] = []
    for step in needed:
        if step.kind == StepKind.PREPARE:
            out.append(step)
        elif step.kind == StepKind.SYNTHESIZE:
            covered = {p for s in live if s.kind == StepKind.SYNTHESIZE and s.chapter == step.chapter
                       for p in s.positions}
            left = [p for p in step.positions if p not in covered]
            out += [Step(StepKind.SYNTHESIZE, step.chapter, tuple(left[i: i + chunks_per_task]))
                    for i in range(0, len(left), chunks_per_task)]
        elif step.kind == StepKind.STITCH:
            if not any(s.chapter == step.chapter and s.kind in (StepKind.STITCH, StepKind.SYNTHESIZE)
                       for s in live):
                out.append(step)
        elif not kinds & {StepKind.ASSEMBLE, StepKind.STITCH, StepKind.SYNTHESIZE}:
            out.append(step)
    return out
