"""The QA stage over one batch of synthesized chunks: check every first take (one batched ASR call), repair
the failed ones by the policy, teach the book's pace with the accepted ones. The function the pipeline calls
after ``synthesize``, or without an engine in its own QA task (distributed mode with a QA queue), whose chunks
that need new takes go to ``repair_takes`` on a worker with the engine; no Celery, no torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from qa.asr import Transcriber
from qa.chunk import ChunkInput, check_chunk, check_chunks
from qa.pace import PaceModel
from qa.repair import Attempt, ChunkState, NeedsTakes, RepairOutcome, repair_chunk
from qa.settings import QASettings
from qa.types import Check, ChunkContext, ClipReport, Take

__all__ = ["ChunkTake", "repair_takes", "run_qa", "speech_seconds"]


@dataclass(frozen=True)
class ChunkTake:
    key: str          # the chunk's cache key (re-take seeds derive from it)
    text: str         # its speech text
    seed: int         # the seed of ``take``
    take: Take
    language: str = "en"


def speech_seconds(report: ClipReport) -> float | None:
    for r in report.results:
        if r.check == Check.DURATION:
            return r.figures.get("speech")
    return None


def run_qa(chunks: Sequence[ChunkTake], *, synthesize: Callable[[list[str], list[int]], Sequence[Take]] | None,
           sample_rate: int, settings: QASettings, transcriber: Transcriber | None,
           pace: PaceModel | None = None,
           repair_if: Callable[[Sequence[ClipReport]], bool] | None = None) -> list[RepairOutcome | NeedsTakes]:
    """One outcome per chunk, in order. ``synthesize(texts, seeds)`` makes re-takes with the job's voice and
    parameters (None: no engine here, a chunk whose repair needs new takes gets ``NeedsTakes``); ``pace`` (the
    book's, rebuilt from the manifest) learns from every accepted chunk; ``repair_if(first reports)`` can turn
    repair off for this batch (the pipeline's random-weights guard)."""
    pace = pace or PaceModel(settings)
    reports = check_chunks([ChunkInput(c.take.audio, sample_rate, _context(pace, c.text, c.take, c.language))
                            for c in chunks], settings, transcriber)
    repair = settings.repair and (repair_if is None or repair_if(reports))
    outcomes: list[RepairOutcome | NeedsTakes] = []
    for c, rep in zip(chunks, reports, strict=True):
        if rep.passed or not repair:
            state = ChunkState.PASSED if rep.passed else ChunkState.FAILED
            out = RepairOutcome(c.take.audio, state, rep, (Attempt("take", c.seed, rep.score, rep.passed,
                                                                  tuple(rep.reasons)),))
            _learn(pace, c, out)
        else:
            out = _repair(c, synthesize, sample_rate, settings, transcriber, pace)
        outcomes.append(out)
    return outcomes


def repair_takes(chunks: Sequence[ChunkTake], *, synthesize: Callable[[list[str], list[int]], Sequence[Take]],
                 sample_rate: int, settings: QASettings, transcriber: Transcriber | None,
                 pace: PaceModel | None = None) -> list[RepairOutcome]:
    """The repair policy for chunks whose first take (``c.take``) ``run_qa`` already found failing without an
    engine (``NeedsTakes``): from that take, as ``run_qa`` would have gone on; ``pace`` is the book's pace as it
    stood then (``NeedsTakes.pace``), and learns as there."""
    pace = pace or PaceModel(settings)
    return [_repair(c, synthesize, sample_rate, settings, transcriber, pace) for c in chunks]  # type: ignore[misc]


def _context(pace: PaceModel, text: str, take: Take, language: str) -> ChunkContext:
    return ChunkContext(text, language, take.tokens, take.token_cap, take.hit_cap, pace.expect(text))


def _repair(c: ChunkTake, synthesize, sample_rate: int, settings: QASettings, transcriber: Transcriber | None,
            pace: PaceModel) -> RepairOutcome | NeedsTakes:
    def check(take: Take, text: str) -> ClipReport:
        return check_chunk(take.audio, sample_rate, _context(pace, text, take, c.language), settings, transcriber)

    out = repair_chunk(c.text, c.key, c.take, c.seed, synthesize=synthesize, check=check, sample_rate=sample_rate,
                       max_takes=settings.max_takes, split=settings.split)
    if isinstance(out, NeedsTakes):   # the repair goes on elsewhere, expecting what this pace expects now
        return replace(out, pace=tuple(pace.to_dict()["logs"]))
    _learn(pace, c, out)
    return out


def _learn(pace: PaceModel, c: ChunkTake, out: RepairOutcome | NeedsTakes) -> None:
    """Teach the book's pace a chunk accepted whole (not failed, not split, not waiting for takes)."""
    if isinstance(out, RepairOutcome) and out.state not in (ChunkState.FAILED, ChunkState.SPLIT):
        seconds = speech_seconds(out.report)
        if seconds:
            pace.accept(c.text, seconds)
