"""Loudness and peaks: EBU R128 measurement by ffmpeg's ebur128 scanner, and a true-peak limiter in numpy.

``measure_loudness(path)`` reads any audio file once (a master WAV, an encoded chapter, the M4B);
``LoudnessMeter`` measures 16-bit samples while they are being written, in a second process (ffmpeg reading a
pipe), so a chapter is measured in the same pass that joins it. ``limit`` holds 16-bit or float samples under a
ceiling on their 4x-oversampled (true) peak with a smooth gain: a window of minima then a box average of the same
width, so the gain at an over is at most what the over needs and changes over ``2 * window`` samples, never at once.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.errors import StitchError

__all__ = ["Loudness", "LoudnessMeter", "limit", "measure_loudness", "true_peaks"]

# ebur128 logs a line per 100 ms at info level; framelog=verbose keeps stderr to the summary. Its true peak
# (oversampling to 192 kHz) costs 5x its loudness: the meter of a chapter being stitched takes the sample peak,
# since the limiter that follows finds the true peaks itself.
_EBUR128 = "ebur128=peak=true:framelog=verbose"
_EBUR128_SAMPLE = "ebur128=peak=sample:framelog=verbose"
_SILENT_LUFS = -70.0


class Loudness(NamedTuple):
    """Integrated loudness (LUFS) and true peak (dBTP) of a file; None where it is silent."""

    lufs: float | None
    true_peak: float | None


def _parse(stderr: str, what: str) -> Loudness:
    summary = stderr[stderr.rfind("Summary:"):] if "Summary:" in stderr else ""
    i = re.search(r"I:\s+(-?[\d.]+|-inf|nan)\s+LUFS", summary)
    p = re.search(r"Peak:\s+(-?[\d.]+|-inf|nan)\s+dBFS", summary)
    if not (i and p):
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise StitchError(f"ffmpeg printed no loudness measurement for {what}: {tail[0]}")

    def num(text: str, floor: float) -> float | None:
        v = float(text)
        return v if math.isfinite(v) and v > floor else None

    return Loudness(num(i.group(1), _SILENT_LUFS), num(p.group(1), -150.0))


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness and true peak of any audio file ffmpeg decodes, in one read of it."""
    path = Path(path)
    cmd = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a:0", "-af", _EBUR128, "-f", "null", "-"]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise StitchError("ffmpeg is not installed (needed to measure loudness)") from None
    if r.returncode != 0:
        tail = r.stderr.strip().splitlines()[-1:] or ["no output"]
        raise StitchError(f"ffmpeg failed to measure the loudness of {path.name}: {tail[0]}")
    return _parse(r.stderr, path.name)


class LoudnessMeter:
    """Measures mono 16-bit samples fed to it, in an ffmpeg process beside this one; ``result()`` ends it.

    Its ``true_peak`` is the sample peak unless ``true_peak=True`` (five times the work). A context manager:
    leaving it early (an error while stitching) kills the process."""

    def __init__(self, sample_rate: int, what: str, true_peak: bool = False) -> None:
        self.what = what
        self._log: IO[bytes] = tempfile.TemporaryFile()  # a file, not a pipe: stderr can never block ffmpeg
        cmd = ["ffmpeg", "-hide_banner", "-nostats", "-f", "s16le", "-ar", str(sample_rate), "-ac", "1",
               "-i", "pipe:0", "-af", _EBUR128 if true_peak else _EBUR128_SAMPLE, "-f", "null", "-"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        except FileNotFoundError:
            self._log.close()
            raise StitchError("ffmpeg is not installed (needed to measure loudness)") from None

    def feed(self, pcm: np.ndarray) -> None:
        try:
            self._proc.stdin.write(np.ascontiguousarray(pcm, dtype="<i2").tobytes())
        except BrokenPipeError:
            raise StitchError(f"ffmpeg stopped while measuring the loudness of {self.what}: "
                              f"{self._stderr()[-200:]}") from None

    def result(self) -> Loudness:
        self._proc.stdin.close()
        rc = self._proc.wait()
        err = self._stderr()
        self._log.close()
        if rc != 0:
            tail = err.strip().splitlines()[-1:] or ["no output"]
            raise StitchError(f"ffmpeg failed to measure the loudness of {self.what}: {tail[0]}")
        return _parse(err, self.what)

    def _stderr(self) -> str:
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")

    def __enter__(self) -> LoudnessMeter:
        return self

    def __exit__(self, *exc) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if not self._log.closed:
            self._log.close()


# 4x oversampling for the true peak (as BS.1770-4 asks): the three in-between phases of a Hann-windowed sinc,
# 12 samples each side. Between samples n and n+1, phase k/4 interpolates from x[n-11 .. n+12].
_HALF = 12
_TAPS = np.stack([
    np.sinc(k / 4 - np.arange(-_HALF + 1, _HALF + 1))
    * np.hanning(2 * _HALF + 2)[1:-1]
    for k in (1, 2, 3)
]).astype(np.float32)


def true_peaks(x: np.ndarray) -> np.ndarray:
    """Per sample, the largest magnitude of the signal between it and the next sample (4x oversampled)."""
    x = np.asarray(x, dtype=np.float32)
    peak = np.abs(x)
    if len(x) < 2:
        return peak
    padded = np.pad(x, (_HALF - 1, _HALF))
    for taps in _TAPS:
        between = np.abs(np.correlate(padded, taps, mode="valid"))  # len(x): x[n-11 .. n+12] for each n
        np.maximum(peak, between, out=peak)
    return peak


_AIM = 10 ** (-0.1 / 20)


def limit(x: np.ndarray, ceiling: float, window: int) -> np.ndarray:
    """Scale ``x`` (float, in place) so its true peak stays under ``ceiling`` (linear); returns ``x``.

    Only the neighbourhood of overs is touched (speech at its loudness target has few), so the cost is one
    peak scan of the whole signal."""
    if window < 1:
        raise ValueError(f"limiter window {window} must be at least 1 sample")
    cheap = np.flatnonzero(np.abs(x) > ceiling * 0.5)   # interpolation overshoots a sample by far less than 6 dB
    if not cheap.size:
        return x
    near = _regions(cheap, 2 * window + _HALF, len(x))
    for a, b in near:
        peaks = true_peaks(x[a:b])
        if peaks.max() <= ceiling:
            continue
        # aim 0.1 dB low: a gain that moves between samples shifts the interpolated peak a little
        need = np.minimum(1.0, ceiling * _AIM / np.maximum(peaks, 1e-12)).astype(np.float32)
        lo = np.pad(need, window, constant_values=1.0)
        lo = sliding_window_view(lo, 2 * window + 1).min(axis=1)          # the least gain within +-window
        sums = np.concatenate([[0.0], np.cumsum(np.pad(lo, window, constant_values=1.0), dtype=np.float64)])
        gain = (sums[2 * window + 1:] - sums[: -2 * window - 1]) / (2 * window + 1)   # box average, +-window
        x[a:b] *= gain.astype(x.dtype)
    return x


def _regions(idx: np.ndarray, reach: int, n: int) -> list[tuple[int, int]]:
    """Spans [a, b) covering every index +-``reach``, merged where they touch."""
    breaks = np.flatnonzero(np.diff(idx) > 2 * reach) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [len(idx)]]) - 1
    return [(max(int(idx[s]) - reach, 0), min(int(idx[e]) + reach + 1, n)) for s, e in zip(starts, ends, strict=True)]
