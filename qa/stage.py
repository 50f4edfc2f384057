"""The QA stage over one batch of synthesized chunks: check every first take (one batched ASR call), repair
the failed ones by the policy, teach the book's pace with the accepted ones. The function the pipeline calls
after ``synthesize`` (embedded mode) or in its own QA task (distributed mode); no Celery, no torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.asr import Transcriber
from qa.chunk import ChunkInput, check_chunk, check_chunks
from qa.pace import PaceModel
from qa.repair import Attempt, ChunkState, RepairOutcome, repair_chunk
from qa.settings import QASettings
from qa.types import Check, ChunkContext, ClipReport, Take

__all__ = ["ChunkTake", "run_qa", "speech_seconds"]


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


def run_qa(chunks: Sequence[ChunkTake], *, synthesize: Callable[[list[str], list[int]], Sequence[Take]],
           sample_rate: int, settings: QASettings, transcriber: Transcriber | None,
           pace: PaceModel | None = None,
           repair_if: Callable[[Sequence[ClipReport]], bool] | None = None) -> list[RepairOutcome]:
    """One outcome per chunk, in order. ``synthesize(texts, seeds)`` makes re-takes with the job's voice and
    parameters; ``pace`` (the book's, rebuilt from the manifest) learns from every accepted chunk;
    ``repair_if(first reports)`` can turn repair off for this batch (the pipeline's random-weights guard)."""
    pace = pace or PaceModel(settings)

    def context(text: str, take: Take, language: str) -> ChunkContext:
        return ChunkContext(text, language, take.tokens, take.token_cap, take.hit_cap, pace.expect(text))

    def check(take: Take, text: str, language: str = "en") -> ClipReport:
        return check_chunk(take.audio, sample_rate, context(text, take, language), settings, transcriber)

    reports = check_chunks([ChunkInput(c.take.audio, sample_rate, context(c.text, c.take, c.language))
                            for c in chunks], settings, transcriber)
    repair = settings.repair and (repair_if is None or repair_if(reports))
    outcomes = []
    for c, rep in zip(chunks, reports, strict=True):
        if rep.passed or not repair:
            state = ChunkState.PASSED if rep.passed else ChunkState.FAILED
            out = RepairOutcome(c.take.audio, state, rep, (Attempt("take", c.seed, rep.score, rep.passed,
                                                                  tuple(rep.reasons)),))
        else:
            out = repair_chunk(c.text, c.key, c.take, c.seed, synthesize=synthesize,
                               check=lambda t, x, lang=c.language: check(t, x, lang), sample_rate=sample_rate,
                               max_takes=settings.max_takes, split=settings.split)
        if out.state != ChunkState.FAILED and out.state != ChunkState.SPLIT:
            seconds = speech_seconds(out.report)
            if seconds:
                pace.accept(c.text, seconds)
        outcomes.append(out)
    return outcomes
