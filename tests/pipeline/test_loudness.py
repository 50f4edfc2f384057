"""Loudness measurement (file and streamed) against ffmpeg, the true-peak estimate, and the limiter."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import StitchError
from pipeline.files import write_wav
from pipeline.loudness import LoudnessMeter, limit, measure_loudness, true_peaks

RATE = 24000


def _speechlike(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    env = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) ** 2
    return (0.08 * rng.standard_normal(len(t)) * env + 0.2 * np.sin(2 * np.pi * 150 * t) * env).astype(np.float32)


def test_streamed_meter_agrees_with_the_file_measurement(tmp_path):
    x = _speechlike(6.0)
    pcm = np.round(x * 32767).astype("<i2")
    path = write_wav(tmp_path / "x.wav", x, RATE)
    with LoudnessMeter(RATE, "x", true_peak=True) as meter:
        for part in np.array_split(pcm, 7):
            meter.feed(part)
        streamed = meter.result()
    whole = measure_loudness(path)
    assert streamed.lufs == pytest.approx(whole.lufs, abs=0.05)
    assert streamed.true_peak == pytest.approx(whole.true_peak, abs=0.05)
    with LoudnessMeter(RATE, "x") as meter:    # sample peak: never above the true one
        meter.feed(pcm)
        sampled = meter.result()
    assert sampled.lufs == pytest.approx(whole.lufs, abs=0.05) and sampled.true_peak <= whole.true_peak + 0.05


def test_silence_measures_as_none(tmp_path):
    path = write_wav(tmp_path / "s.wav", np.zeros(RATE * 2, np.float32), RATE)
    assert measure_loudness(path) == (None, None)


def test_measuring_a_non_audio_file_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(StitchError, match="bad.wav"):
        measure_loudness(bad)


def test_true_peak_finds_the_peak_between_samples():
    # a sine at a quarter of the rate, sampled 45 degrees off its crests: samples at 0.707, the wave at 1.0
    n = np.arange(4000)
    x = np.sin(2 * np.pi * n / 4 + np.pi / 4).astype(np.float32)
    assert np.abs(x).max() == pytest.approx(0.7071, abs=1e-3)
    assert true_peaks(x)[100:-100].max() == pytest.approx(1.0, abs=0.01)


def test_limiter_holds_the_true_peak_under_the_ceiling_smoothly(tmp_path):
    x = _speechlike(4.0) * 2.0
    x[RATE: RATE + 40] = 0.95                       # a burst far over the ceiling
    ceiling = 10 ** (-4.5 / 20)
    before = x.copy()
    limit(x, ceiling, window=120)
    assert true_peaks(x).max() <= ceiling + 1e-4
    gain = np.divide(x, before, out=np.ones_like(x), where=np.abs(before) > 1e-3)
    touched = np.flatnonzero(gain < 0.999)
    assert touched.size and touched.size < len(x) * 0.5     # only around the overs
    # the gain moves gradually: at most 1/(2*window+1) of full scale per sample, where the signal has sound
    idx = np.flatnonzero(np.abs(before) > 0.05)
    steps = np.abs(np.diff(gain[idx]))[np.diff(idx) == 1]
    assert steps.max() < 2.0 / (2 * 120 + 1)
    lufs, peak = measure_loudness(write_wav(tmp_path / "l.wav", x, RATE))
    assert peak <= -4.5 + 0.1


def test_limiter_leaves_quiet_audio_alone():
    x = _speechlike(2.0) * 0.1
    y = limit(x.copy(), 0.5, window=120)
    assert np.array_equal(x, y)
