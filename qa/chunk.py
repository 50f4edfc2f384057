"""Every check on one chunk, or on many at once (one batched ASR call): the function the pipeline runs.

``check_chunks`` analyses each take's frames once, transcribes all takes in one packed ASR call, aligns each
transcript with its speech text (``qa.align``), then runs the signal checks with the text's end (the last heard
word) known, so the tail check measures sound after the words, not after the last noise. A chunk that fails ASR
inside a pack is transcribed again on its own (a faulty neighbour can pull its words astray).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.align import Alignment, Op, align, allowed_errors, words
from qa.asr import Transcriber, Transcript
from qa.features import Frames, analyze, as_mono_float, runs
from qa.settings import QASettings
from qa.signal import signal_checks
from qa.types import Check, CheckResult, ChunkContext, ClipReport

__all__ = ["ChunkInput", "asr_result", "check_chunk", "check_chunks", "score", "trim_point"]


@dataclass(frozen=True)
class ChunkInput:
    audio: np.ndarray
    sample_rate: int
    context: ChunkContext


def asr_result(alignment: Alignment, transcript: Transcript, settings: QASettings) -> CheckResult:
    n = len(alignment.ref)
    allowed = allowed_errors(n, settings.asr_error_rate, settings.asr_min_errors)
    missing, extra, wrong = (alignment.words_of(op) for op in (Op.MISSING, Op.EXTRA, Op.WRONG))
    errors = alignment.weighted_errors(settings.asr_wrong_weight)
    figures = {"words": n, "heard": len(alignment.hyp), "errors": errors, "allowed": allowed,
               "missing": len(missing), "extra": len(extra), "wrong": len(wrong),
               "misheard": alignment.count(Op.MISHEARD), "trailing_missing": alignment.trailing_missing,
               "trailing_extra": alignment.trailing_extra,
               "accuracy": round(alignment.accuracy(settings.asr_wrong_weight), 4)}
    reasons = []
    if n and not alignment.hyp:
        reasons.append("no words heard")
    elif alignment.trailing_missing >= settings.asr_max_trailing_missing:
        tail = " ".join(alignment.ref[-alignment.trailing_missing:])
        reasons.append(f"truncated: the last {alignment.trailing_missing} words unheard ({_clip(tail)!r})")
    run, at = alignment.missing_run
    figures["missing_run"] = run
    if run > settings.asr_max_missing_run and alignment.trailing_missing < settings.asr_max_trailing_missing:
        reasons.append(f"skipped {run} words: {_clip(' '.join(alignment.ref[at:at + run]))!r}")
    if errors > allowed and not (n and not alignment.hyp):
        parts = [f"{k} {_clip(' '.join(v))!r}" for k, v in (("missing", missing), ("extra", extra),
                                                            ("wrong", wrong)) if v]
        reasons.append(f"{errors:g} word errors in {n} words (allowed {allowed}): " + "; ".join(parts))
    if reasons:
        reasons.append(f"heard {_clip(transcript.text, 80)!r}")
    return CheckResult(Check.ASR, not reasons, figures, "; ".join(reasons))


def _clip(s: str, n: int = 60) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


def trim_point(frames: Frames, speech_end: float) -> float:
    """Where to cut a tail: the longest pause (>= 100 ms) starting within 0.8 s before to 0.2 s after the last
    heard word's end (Whisper's word ends drift late when sound follows, early otherwise), else the first pause
    after it; 50 ms into the pause. The repair policy keeps a trimmed take only if ASR still hears the last word."""
    gaps = runs(~frames.active)
    min_len = max(1, int(round(0.1 / frames.hop)))
    gaps = gaps[(gaps[:, 1] - gaps[:, 0]) >= min_len]
    lo, hi = (speech_end - 0.8) / frames.hop, (speech_end + 0.2) / frames.hop
    near = gaps[(gaps[:, 0] >= lo) & (gaps[:, 0] <= hi)]
    if len(near):
        a = near[np.argmax(near[:, 1] - near[:, 0]), 0]
    else:
        later = gaps[gaps[:, 0] >= hi]
        if not len(later):
            return round(min(frames.duration, speech_end + 0.05), 3)
        a = later[0, 0]
    return round(min(frames.duration, frames.time(int(a)) + 0.05), 3)


def score(results: Sequence[CheckResult]) -> float:
    """A take's score in [0, 1]: the ASR word accuracy (1 without ASR), halved for each failed signal check."""
    s = 1.0
    for r in results:
        if r.check == Check.ASR:
            s *= r.figures.get("accuracy", 1.0)
        elif not r.passed:
            s *= 0.5
    return s


def check_chunks(items: Sequence[ChunkInput], settings: QASettings,
                 transcriber: Transcriber | None = None) -> list[ClipReport]:
    """Check many chunks; ASR (when a transcriber is given) runs once over all of them, packed."""
    audios = [as_mono_float(it.audio) for it in items]
    frames = [analyze(a, it.sample_rate, settings) for a, it in zip(audios, items, strict=True)]
    transcripts: list[Transcript | None] = [None] * len(items)
    if transcriber is not None and items:
        by_lang: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            by_lang.setdefault(it.context.language, []).append(i)
        for lang, idx in by_lang.items():
            for i, t in zip(idx, transcriber.transcribe([(audios[i], items[i].sample_rate) for i in idx], lang),
                            strict=True):
                transcripts[i] = t
    reports = [_report(a, it, fr, tr, settings) for a, it, fr, tr in zip(audios, items, frames, transcripts,
                                                                         strict=True)]
    if transcriber is not None and len(items) > 1:
        # Whisper decodes a packed window as one text: a faulty neighbour (babble, dropped words) can drag a good
        # chunk's words with it. A chunk that fails ASR in a pack is heard again alone; the better report stays.
        for i, rep in enumerate(reports):
            if Check.ASR in rep.failed_checks():
                alone = transcriber.transcribe([(audios[i], items[i].sample_rate)], items[i].context.language)[0]
                again = _report(audios[i], items[i], frames[i], alone, settings)
                if (again.passed, again.score) > (rep.passed, rep.score):
                    reports[i] = again
    return reports


def check_chunk(audio: np.ndarray, sample_rate: int, context: ChunkContext, settings: QASettings,
                transcriber: Transcriber | None = None) -> ClipReport:
    return check_chunks([ChunkInput(audio, sample_rate, context)], settings, transcriber)[0]


def _report(audio, item: ChunkInput, frames: Frames, transcript: Transcript | None,
            settings: QASettings) -> ClipReport:
    ctx = item.context
    asr = None
    trim = None
    if transcript is not None:
        alignment = align(words(ctx.text, ctx.language), words(transcript.text, ctx.language)
                          if transcript.words else [], settings.asr_similarity)
        asr = asr_result(alignment, transcript, settings)
        last = alignment.last_heard_hyp
        if last is not None:
            # the heard words were normalized one by one in the same order: map the index back to a word time
            ctx = replace(ctx, speech_end=speech_end(frames, *_word_span(transcript, last, ctx.language)))
    results = signal_checks(audio, item.sample_rate, ctx, settings, frames)
    if asr is not None:
        results.append(asr)
    failed = {r.check for r in results if not r.passed}
    if Check.TAIL in failed and ctx.speech_end is not None:
        trim = trim_point(frames, ctx.speech_end)
    return ClipReport(ctx.text, frames.duration, item.sample_rate, tuple(results), transcript is not None,
                      transcript.text if transcript is not None else None, trim, score(results))


def _word_span(transcript: Transcript, hyp_index: int, language: str) -> tuple[float, float]:
    """(start, end) of the transcript word that produced normalized heard word ``hyp_index``."""
    k = 0
    for w in transcript.words:
        k += len(words(w.text, language)) if w.text.strip() else 0
        if k > hyp_index:
            return w.start, w.end
    return transcript.words[-1].start, transcript.words[-1].end


def speech_end(frames: Frames, word_start: float, word_end: float) -> float:
    """Where the last heard word ends. Whisper's word *end* drifts late into whatever sound follows (a murmur
    right after the text), its *start* is reliable: a pause of 150 ms or more that begins after the start and
    before the reported end is where the word really ended (words hold no such pause)."""
    gaps = runs(~frames.active)
    gaps = gaps[(gaps[:, 1] - gaps[:, 0]) * frames.hop >= 0.15]
    after = gaps[gaps[:, 0] * frames.hop > word_start + 0.05]
    if len(after) and after[0, 0] * frames.hop < word_end:
        return round(float(after[0, 0] * frames.hop), 3)
    return word_end
