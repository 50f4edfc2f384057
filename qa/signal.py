"""The signal checks: small pure functions over (audio, sample_rate, context) returning a ``CheckResult``.

Each takes the chunk's ``Frames`` (``qa.features.analyze``) when the caller already has them, so the whole set
costs one framing pass and one batched FFT (well under 1% of synthesis time). ``signal_checks`` runs them all.
"""

from __future__ import annotations

import numpy as np

from qa.features import Frames, analyze, as_mono_float, runs
from qa.pace import PaceModel
from qa.settings import QASettings
from qa.types import Check, CheckResult, ChunkContext

__all__ = [
    "SIGNAL_CHECKS", "check_clipping", "check_dc_offset", "check_duration", "check_inner_silence",
    "check_lead_silence", "check_loudness", "check_noise", "check_runaway", "check_tail", "check_trail_silence",
    "signal_checks", "speech_span",
]


def _frames(audio, sr, settings, frames) -> Frames:
    return frames if frames is not None else analyze(audio, sr, settings)


def _r(x: float, nd: int = 3) -> float:
    return round(float(x), nd) if np.isfinite(x) else float(x)


def speech_span(fr: Frames) -> tuple[float, float] | None:
    """(start, end) seconds of the sounding part, or None when nothing sounds."""
    a, b = fr.first_active, fr.last_active
    return None if a is None else (fr.time(a), fr.time(b + 1))


def check_loudness(audio, sr, ctx: ChunkContext, settings: QASettings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    if not fr.active.any():
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        return CheckResult(Check.LOUDNESS, False, {"rms_db": None, "peak": _r(peak, 5)}, "no sound (silent take)")
    rms_db = 10 * np.log10(np.mean(10 ** (fr.db[fr.active] / 10)))
    ok = rms_db >= settings.min_rms_db
    return CheckResult(Check.LOUDNESS, bool(ok), {"rms_db": _r(rms_db, 2)},
                       "" if ok else f"too quiet: RMS {rms_db:.1f} dB < {settings.min_rms_db:g} dB")


def check_lead_silence(audio, sr, ctx, settings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    span = speech_span(fr)
    if span is None:  # a silent take is the loudness check's finding
        return CheckResult(Check.LEAD_SILENCE, True, {"seconds": None})
    lead = span[0]
    ok = lead <= settings.max_lead_silence
    return CheckResult(Check.LEAD_SILENCE, bool(ok), {"seconds": _r(lead)},
                       "" if ok else f"{lead:.2f} s of silence before the speech (max {settings.max_lead_silence:g})")


def check_trail_silence(audio, sr, ctx, settings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    span = speech_span(fr)
    if span is None:
        return CheckResult(Check.TRAIL_SILENCE, True, {"seconds": None})
    trail = fr.duration - span[1]
    ok = trail <= settings.max_trail_silence
    return CheckResult(Check.TRAIL_SILENCE, bool(ok), {"seconds": _r(trail)},
                       "" if ok else f"{trail:.2f} s of silence after the speech (max {settings.max_trail_silence:g})")


def check_inner_silence(audio, sr, ctx, settings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    gaps = runs(~fr.active)
    if fr.first_active is not None:
        gaps = gaps[(gaps[:, 0] > fr.first_active) & (gaps[:, 1] <= fr.last_active)]
    else:
        gaps = gaps[:0]
    if not len(gaps):
        return CheckResult(Check.INNER_SILENCE, True, {"longest": 0.0, "at": None})
    i = int(np.argmax(gaps[:, 1] - gaps[:, 0]))
    longest, at = (gaps[i, 1] - gaps[i, 0]) * fr.hop, gaps[i, 0] * fr.hop
    ok = longest <= settings.max_inner_silence
    return CheckResult(Check.INNER_SILENCE, bool(ok), {"longest": _r(longest), "at": _r(at)},
                       "" if ok else f"{longest:.2f} s silence inside the speech at {at:.2f} s "
                                     f"(max {settings.max_inner_silence:g})")


def check_clipping(audio, sr, ctx, settings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    frac = 0.0
    if fr.peak >= settings.clip_level and len(audio) > 2:  # only then look for runs of 3+ samples at the ceiling
        ceil = np.abs(np.asarray(audio, np.float32)) >= settings.clip_level
        frac = float((ceil[:-2] & ceil[1:-1] & ceil[2:]).mean())
    ok = frac <= settings.max_clipped_fraction
    return CheckResult(Check.CLIPPING, bool(ok), {"clipped_fraction": _r(frac, 6), "peak": _r(fr.peak, 4)},
                       "" if ok else f"clipped: {frac:.2%} of samples held at full scale "
                                     f"(max {settings.max_clipped_fraction:.2%})")


def check_dc_offset(audio, sr, ctx, settings, frames=None) -> CheckResult:
    dc = _frames(audio, sr, settings, frames).mean
    ok = abs(dc) <= settings.max_dc_offset
    return CheckResult(Check.DC_OFFSET, bool(ok), {"dc": _r(dc, 5)},
                       "" if ok else f"DC offset {dc:+.3f} (max {settings.max_dc_offset:g})")


def check_noise(audio, sr, ctx, settings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    r = runs(fr.noisy)
    longest = float((r[:, 1] - r[:, 0]).max() * fr.hop) if len(r) else 0.0
    at = float(r[np.argmax(r[:, 1] - r[:, 0]), 0] * fr.hop) if len(r) else None
    frac = float(fr.noisy.sum() / max(1, fr.active.sum()))
    ok = longest <= settings.max_noise_run
    return CheckResult(Check.NOISE, bool(ok), {"longest_noise": _r(longest), "at": None if at is None else _r(at),
                                               "noisy_fraction": _r(frac, 4)},
                       "" if ok else f"{longest:.2f} s of noise-like sound at {at:.2f} s "
                                     f"(max {settings.max_noise_run:g})")


def check_tail(audio, sr, ctx: ChunkContext, settings, frames=None) -> CheckResult:
    """Sound after the text ends. The end is the last matched word (``ctx.speech_end``, from ASR) plus a margin
    for early word timestamps; without ASR it is the end of the last voiced (not noise-like) frame."""
    fr = _frames(audio, sr, settings, frames)
    if ctx.speech_end is not None:
        end, source = ctx.speech_end + settings.tail_margin, "last word"
    else:
        voiced = np.flatnonzero(fr.active & ~fr.noisy)
        if not voiced.size:
            return CheckResult(Check.TAIL, True, {"tail": 0.0, "speech_end": None})
        end, source = fr.time(int(voiced[-1]) + 1), "last voiced frame"
    first = int(np.ceil(end / fr.hop))
    tail = float(np.count_nonzero(fr.active[first:]) * fr.hop)
    ok = tail <= settings.max_tail
    return CheckResult(Check.TAIL, bool(ok), {"tail": _r(tail), "speech_end": _r(end), "source": source},
                       "" if ok else f"{tail:.2f} s of sound after the {source} at {end:.2f} s "
                                     f"(max {settings.max_tail:g})")


def check_runaway(audio, sr, ctx: ChunkContext, settings, frames=None) -> CheckResult:
    figures = {"tokens": ctx.tokens, "token_cap": ctx.token_cap}
    if ctx.hit_cap:
        return CheckResult(Check.RUNAWAY, False, figures,
                           f"runaway: the token run hit its cap ({ctx.tokens} of {ctx.token_cap} tokens)")
    return CheckResult(Check.RUNAWAY, True, figures)


def check_duration(audio, sr, ctx: ChunkContext, settings, frames=None) -> CheckResult:
    fr = _frames(audio, sr, settings, frames)
    span = speech_span(fr)
    spoken = 0.0 if span is None else span[1] - span[0]
    expected, lo, hi = ctx.expected or PaceModel(settings).expect(ctx.text)
    ok = lo <= spoken <= hi
    figures = {"speech": _r(spoken), "expected": _r(expected), "low": _r(lo), "high": _r(hi),
               "ratio": _r(spoken / expected if expected else 0.0)}
    if ok:
        return CheckResult(Check.DURATION, True, figures)
    word = "short" if spoken < lo else "long"
    return CheckResult(Check.DURATION, False, figures,
                       f"too {word}: {spoken:.2f} s of speech, expected {expected:.2f} s ({lo:.2f}-{hi:.2f})")


SIGNAL_CHECKS = (check_duration, check_runaway, check_lead_silence, check_trail_silence, check_inner_silence,
                 check_clipping, check_dc_offset, check_loudness, check_noise, check_tail)


def signal_checks(audio, sample_rate: int, ctx: ChunkContext, settings: QASettings,
                  frames: Frames | None = None) -> list[CheckResult]:
    """Every signal check, sharing one analysis (which validates the audio)."""
    if frames is None:
        audio = as_mono_float(audio)
        frames = analyze(audio, sample_rate, settings)
    return [check(audio, sample_rate, ctx, settings, frames) for check in SIGNAL_CHECKS]
