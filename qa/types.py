"""Typed results of qa: one check's verdict, a chunk's context, a take, a clip's report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

__all__ = ["Check", "CheckResult", "ChunkContext", "ClipReport", "Take", "failed_reasons"]


class Check(StrEnum):
    DURATION = "duration"            # speech duration against the text's expected duration
    RUNAWAY = "runaway"              # the token run hit its cap
    LEAD_SILENCE = "lead_silence"
    TRAIL_SILENCE = "trail_silence"
    INNER_SILENCE = "inner_silence"
    CLIPPING = "clipping"
    DC_OFFSET = "dc_offset"
    LOUDNESS = "loudness"            # RMS too low (pure silence included)
    NOISE = "noise"
    TAIL = "tail"                    # sound after the last spoken word
    ASR = "asr"                      # the words heard against the text


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: ``figures`` are its measurements (JSON numbers), ``reason`` says why it failed."""

    check: Check
    passed: bool
    figures: dict = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict:
        return {"check": str(self.check), "passed": self.passed, "figures": self.figures, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: dict) -> CheckResult:
        return cls(Check(d["check"]), bool(d["passed"]), dict(d.get("figures", {})), d.get("reason", ""))


@dataclass(frozen=True)
class Take:
    """One synthesis of one text: what ``model.tts`` returns per text (tokens made, the runaway cap, whether the
    run stopped at the cap). Engines that have no tokens leave them 0/None."""

    audio: np.ndarray
    tokens: int = 0
    token_cap: int | None = None
    hit_cap: bool = False


@dataclass(frozen=True)
class ChunkContext:
    """What the checks know besides the audio: the speech text, the book's language, the take's token run and
    the duration the book's pace expects (``qa.pace.PaceModel.expect``)."""

    text: str
    language: str = "en"
    tokens: int = 0
    token_cap: int | None = None
    hit_cap: bool = False
    expected: tuple[float, float, float] | None = None  # (expected seconds, lowest ok, highest ok)
    speech_end: float | None = None  # where the text ends (last matched word, from ASR); None: from the signal


def failed_reasons(results) -> list[str]:
    return [f"{r.check}: {r.reason}" for r in results if not r.passed]


@dataclass(frozen=True)
class ClipReport:
    """Every check on one clip (``qa.clip.check_clip``); ``trim_at`` is where a tail should be cut (seconds)."""

    text: str
    duration: float
    sample_rate: int
    results: tuple[CheckResult, ...]
    asr_ran: bool
    transcript: str | None = None
    trim_at: float | None = None
    score: float = 1.0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def reasons(self) -> list[str]:
        return failed_reasons(self.results)

    def failed_checks(self) -> set[Check]:
        return {r.check for r in self.results if not r.passed}

    def render(self) -> str:
        """Human-readable verdicts, one line per check (what ``tomecast check`` prints without --json)."""
        lines = [f"{'PASS' if self.passed else 'FAIL'}  {self.duration:.2f} s, {len(self.results)} checks"
                 + ("" if self.asr_ran else " (ASR off)")]
        for r in self.results:
            figs = " ".join(f"{k}={v}" for k, v in r.figures.items() if v is not None)
            lines.append(f"  {'ok  ' if r.passed else 'FAIL'} {r.check:<14} {figs}" + (f"\n       {r.reason}"
                                                                                     if r.reason else ""))
        if self.transcript is not None:
            lines.append(f"  heard: {self.transcript}")
        if self.trim_at is not None:
            lines.append(f"  trim the tail at {self.trim_at:.2f} s")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"text": self.text, "duration": self.duration, "sample_rate": self.sample_rate,
                "passed": self.passed, "score": self.score, "asr_ran": self.asr_ran,
                "transcript": self.transcript, "trim_at": self.trim_at,
                "results": [r.to_dict() for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict) -> ClipReport:
        return cls(d["text"], d["duration"], d["sample_rate"], tuple(CheckResult.from_dict(r) for r in d["results"]),
                   d["asr_ran"], d.get("transcript"), d.get("trim_at"), d.get("score", 1.0))

    @classmethod
    def from_json(cls, s: str) -> ClipReport:
        return cls.from_dict(json.loads(s))
