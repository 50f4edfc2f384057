"""ACX figures of a chapter file, measured on the audio as delivered (decode the encoded file, not the master).

ACX (Audible) asks per file: RMS between -23 and -18 dB, peak at most -3 dB, noise floor at most -60 dB, and
room tone of 0.5-1 s at the head and 1-5 s at the tail. Peak here is the 4x-oversampled true peak (the codec's
overshoot shows up there, a sample peak can hide it); the noise floor is the RMS of the quietest 0.5 s window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from qa.features import FRAME_SECONDS, as_mono_float

__all__ = ["AcxFigures", "acx_figures"]

RMS_RANGE = (-23.0, -18.0)
MAX_PEAK = -3.0
MAX_NOISE_FLOOR = -60.0
HEAD_TONE = (0.5, 1.0)
TAIL_TONE = (1.0, 5.0)
TONE_DB = -50.0   # a frame quieter than this is room tone


@dataclass(frozen=True)
class AcxFigures:
    rms_db: float
    peak_db: float            # true peak, dBFS
    noise_floor_db: float
    head_tone: float          # seconds of room tone before the first sound
    tail_tone: float
    reasons: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.reasons

    def to_dict(self) -> dict:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
        d["passed"] = self.passed
        return {k: (round(v, 2) if isinstance(v, float) and np.isfinite(v) else v) for k, v in d.items()}


def _db(x: float) -> float:
    return float(20 * np.log10(x)) if x > 0 else float("-inf")


def true_peak(x: np.ndarray) -> float:
    from scipy.signal import resample_poly

    peak = float(np.max(np.abs(x))) if x.size else 0.0
    step = 1 << 20  # oversample in blocks: a chapter is tens of millions of samples
    for i in range(0, len(x), step):
        block = x[max(0, i - 64): i + step + 64]
        peak = max(peak, float(np.max(np.abs(resample_poly(block, 4, 1)))))
    return peak


def acx_figures(audio, sample_rate: int) -> AcxFigures:
    x = as_mono_float(audio, "chapter")
    rms = _db(float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))) if x.size else float("-inf")
    peak = _db(true_peak(x))
    n = int(FRAME_SECONDS * sample_rate)
    f = len(x) // n
    frame_db = 10 * np.log10(np.mean(x[: f * n].reshape(f, n).astype(np.float64) ** 2, axis=1) + 1e-20)
    w = max(1, int(0.5 / FRAME_SECONDS))
    if f >= w:
        window = np.convolve(10 ** (frame_db / 10), np.ones(w) / w, mode="valid")
        floor = float(10 * np.log10(window.min() + 1e-20))
    else:
        floor = float("-inf")
    loud = np.flatnonzero(frame_db > TONE_DB)
    head = loud[0] * FRAME_SECONDS if loud.size else len(x) / sample_rate
    tail = (f - loud[-1] - 1) * FRAME_SECONDS if loud.size else len(x) / sample_rate
    reasons = []
    if not RMS_RANGE[0] <= rms <= RMS_RANGE[1]:
        reasons.append(f"RMS {rms:.1f} dB outside {RMS_RANGE[0]:g} to {RMS_RANGE[1]:g} dB")
    if peak > MAX_PEAK:
        reasons.append(f"true peak {peak:.1f} dB above {MAX_PEAK:g} dB")
    if floor > MAX_NOISE_FLOOR:
        reasons.append(f"noise floor {floor:.1f} dB above {MAX_NOISE_FLOOR:g} dB")
    if not HEAD_TONE[0] <= head <= HEAD_TONE[1]:
        reasons.append(f"head room tone {head:.2f} s outside {HEAD_TONE[0]:g}-{HEAD_TONE[1]:g} s")
    if not TAIL_TONE[0] <= tail <= TAIL_TONE[1]:
        reasons.append(f"tail room tone {tail:.2f} s outside {TAIL_TONE[0]:g}-{TAIL_TONE[1]:g} s")
    return AcxFigures(rms, peak, floor, float(head), float(tail), tuple(reasons))
