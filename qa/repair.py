"""The repair policy: what happens to a chunk whose take fails a check. A plain function over injected callables.

Order (each step only when the previous did not give a passing take):
  1. a take whose failures include a tail and that has a trim point (the last heard word) is trimmed there and
     checked again, instead of being regenerated;
  2. new takes with new seeds, up to ``max_takes`` (each also gets step 1), keeping the best by score;
  3. the text is split at the clause boundary nearest its middle, both halves synthesized (one batch) and
     checked, and joined with a short pause;
  4. accepted with failure: the best take is kept, with its reasons.
Seeds come from the chunk key (``repair_seeds``), so the same book gives the same takes.

Without an engine (``synthesize`` None: QA on its own queue, on a host that cannot speak) the policy runs step 1
and stops where it would need a new take, returning ``NeedsTakes``; a worker with the engine then runs it again
from the same first take, so the attempts and the kept take are those of one uninterrupted run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from qa.types import Check, CheckResult, ClipReport, Take

__all__ = ["Attempt", "ChunkState", "NeedsTakes", "RepairOutcome", "join_halves", "repair_chunk", "repair_seeds",
           "split_clause"]

Synthesize = Callable[[list[str], list[int]], Sequence[Take]]   # texts, seeds -> one take each
CheckTake = Callable[[Take, str], ClipReport]                   # take, its text -> its report


class ChunkState(StrEnum):
    PASSED = "passed"        # the first take passed
    TRIMMED = "trimmed"      # a take passed once its tail was cut
    REPAIRED = "repaired"    # a later take (new seed) passed
    SPLIT = "split"          # the halves passed
    FAILED = "failed"        # accepted with failure: kept with its reasons


@dataclass(frozen=True)
class Attempt:
    kind: str                # take | trim | split
    seed: int | None
    score: float
    passed: bool
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "seed": self.seed, "score": round(self.score, 4), "passed": self.passed,
                "reasons": list(self.reasons)}


@dataclass(frozen=True)
class RepairOutcome:
    audio: np.ndarray
    state: ChunkState
    report: ClipReport                       # of the kept audio (for a split: of the weaker half)
    attempts: tuple[Attempt, ...] = field(default_factory=tuple)
    texts: tuple[str, ...] = ()              # the split halves, when split

    @property
    def reasons(self) -> list[str]:
        return self.report.reasons if self.state == ChunkState.FAILED else []

    @property
    def scores(self) -> list[float]:
        return [a.score for a in self.attempts]


@dataclass(frozen=True)
class NeedsTakes:
    """The policy stopped where it needs new takes and has no engine: the first take's report and attempts, and
    (filled by ``qa.stage``) the book's pace then (``qa.pace.PaceModel`` logs), for the repair to expect the same."""

    report: ClipReport
    attempts: tuple[Attempt, ...]
    pace: tuple[float, ...] = ()


def repair_seeds(key: str, n: int, salt: str = "take") -> list[int]:
    """``n`` seeds for re-takes of the chunk ``key`` (31-bit, deterministic)."""
    return [int.from_bytes(hashlib.sha256(f"{key}:{salt}:{i}".encode()).digest()[:4], "big") & 0x7FFFFFFF
            for i in range(1, n + 1)]


_CLAUSE = re.compile(r"(?<=[,;:\u2014\u2013)])\s+|(?<=[.!?][\"'\u201d\u2019])\s+|(?<=[.!?])\s+")


def split_clause(text: str) -> tuple[str, str] | None:
    """Split at the clause boundary (sentence end, then , ; : dash) nearest the middle; at the middle space when
    there is none; None for a text of fewer than four words."""
    if len(text.split()) < 4:
        return None
    mid = len(text) / 2
    cuts = [m.start() for m in _CLAUSE.finditer(text)]
    if not cuts:
        cuts = [m.start() for m in re.finditer(r"\s+", text)]
    cut = min(cuts, key=lambda c: abs(c - mid))
    a, b = text[:cut].strip(), text[cut:].strip()
    return (a, b) if a and b else None


def join_halves(parts: Sequence[np.ndarray], sample_rate: int, pause: float = 0.25) -> np.ndarray:
    gap = np.zeros(int(pause * sample_rate), np.float32)
    out = []
    for i, p in enumerate(parts):
        out += [np.asarray(p, np.float32)] + ([gap] if i < len(parts) - 1 else [])
    return np.concatenate(out)


def _trim(take: Take, at: float, sample_rate: int) -> Take:
    n = int(at * sample_rate)
    fade = min(n, int(0.01 * sample_rate))
    audio = np.array(take.audio[:n], dtype=np.float32)
    if fade:
        audio[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)  # no click at the cut
    return Take(audio, take.tokens, take.token_cap, hit_cap=False)


def _try(take: Take, text: str, seed: int | None, check: CheckTake, sample_rate: int,
         attempts: list[Attempt]) -> tuple[Take, ClipReport]:
    """Check a take; if it fails with a tail and a trim point, try the trimmed take too. Returns the better."""
    rep = check(take, text)
    attempts.append(Attempt("take", seed, rep.score, rep.passed, tuple(rep.reasons)))
    if rep.passed or Check.TAIL not in rep.failed_checks() or rep.trim_at is None:
        return take, rep
    trimmed = _trim(take, rep.trim_at, sample_rate)
    trep = check(trimmed, text)
    if trep.passed and _last_word_cut(trep):
        trep = replace(trep, results=trep.results + (CheckResult(Check.TAIL, False, {"trim_at": rep.trim_at},
                                                                  "the trim cut the last word"),))
    attempts.append(Attempt("trim", seed, trep.score, trep.passed, tuple(trep.reasons)))
    return (trimmed, trep) if (trep.passed, trep.score) >= (rep.passed, rep.score) else (take, rep)


def _last_word_cut(rep: ClipReport) -> bool:
    for r in rep.results:
        if r.check == Check.ASR:
            return r.figures.get("trailing_missing", 0) > 0
    return False


def repair_chunk(text: str, key: str, first: Take, first_seed: int | None, *, synthesize: Synthesize | None,
                 check: CheckTake, sample_rate: int, max_takes: int = 3, split: bool = True,
                 splitter: Callable[[str], tuple[str, str] | None] = split_clause) -> RepairOutcome | NeedsTakes:
    """Apply the policy to one chunk whose first take (made with ``first_seed``) is ``first``; with ``synthesize``
    None, ``NeedsTakes`` where the policy would make a new take."""
    attempts: list[Attempt] = []
    take, rep = _try(first, text, first_seed, check, sample_rate, attempts)
    if rep.passed:
        state = ChunkState.TRIMMED if attempts[-1].kind == "trim" else ChunkState.PASSED
        return RepairOutcome(take.audio, state, rep, tuple(attempts))
    halves = splitter(text) if split else None
    if synthesize is None and (max_takes > 0 or halves is not None):
        return NeedsTakes(rep, tuple(attempts))
    best = (take, rep)
    for seed in repair_seeds(key, max_takes):
        new = synthesize([text], [seed])[0]
        take, rep = _try(new, text, seed, check, sample_rate, attempts)
        if rep.passed:
            return RepairOutcome(take.audio, ChunkState.REPAIRED, rep, tuple(attempts))
        if rep.score > best[1].score:
            best = (take, rep)
    if halves is not None:
        seeds = repair_seeds(key, 2, salt="split")
        takes = synthesize(list(halves), seeds)
        reps = [check(t, h) for t, h in zip(takes, halves, strict=True)]
        worst = min(reps, key=lambda r: (r.passed, r.score))
        attempts.append(Attempt("split", None, worst.score, all(r.passed for r in reps),
                                tuple(x for r in reps for x in r.reasons)))
        if all(r.passed for r in reps):
            return RepairOutcome(join_halves([t.audio for t in takes], sample_rate), ChunkState.SPLIT, worst,
                                 tuple(attempts), tuple(halves))
    take, rep = best
    return RepairOutcome(take.audio, ChunkState.FAILED, rep, tuple(attempts))
