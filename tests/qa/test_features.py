"""Frame analysis: runs of a mask, active frames, noise-like frames, input validation."""

import numpy as np
import pytest

from qa.errors import AudioInputError
from qa.features import analyze, as_mono_float, runs
from qa.settings import QASettings

SR = 16000


def tone(seconds, freq=220.0, amp=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_runs_finds_true_stretches():
    assert runs(np.array([0, 1, 1, 0, 1, 0, 0, 1], bool)).tolist() == [[1, 3], [4, 5], [7, 8]]
    assert runs(np.zeros(4, bool)).shape == (0, 2)


def test_tone_is_active_not_noisy_and_noise_is_noisy():
    x = np.concatenate([np.zeros(SR, np.float32), tone(1.0),
                        (np.random.default_rng(0).standard_normal(SR) * 0.1).astype(np.float32)])
    fr = analyze(x, SR, QASettings())
    assert fr.first_active == 50 and abs(fr.duration - 3.0) < 1e-9
    assert not fr.noisy[50:100].any() and fr.active[50:100].all()
    assert fr.noisy[100:150].mean() > 0.9


def test_bad_arrays_are_audio_input_errors():
    with pytest.raises(AudioInputError, match="mono"):
        as_mono_float(np.zeros((2, 100)))
    with pytest.raises(AudioInputError, match="NaN"):
        as_mono_float(np.array([0.0, np.nan]))
    assert as_mono_float(np.array([16384], np.int16))[0] == 0.5
