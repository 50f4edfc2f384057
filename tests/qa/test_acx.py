"""ACX figures: a chapter with room tone and speech at the right level passes; each fault is named."""

import numpy as np
import pytest

from qa.acx import acx_figures, true_peak

SR = 24000


def chapter(level_db=-20.0, head=0.7, tail=2.0, floor_db=-70.0, seconds=20.0):
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SR)) / SR
    amp = 10 ** (level_db / 20) * np.sqrt(2)
    body = amp * np.sin(2 * np.pi * 200 * t) * (1 + 0.0 * t)
    x = np.concatenate([np.zeros(int(head * SR)), body, np.zeros(int(tail * SR))])
    x += rng.standard_normal(len(x)) * 10 ** (floor_db / 20)
    return x.astype(np.float32)


def test_a_good_chapter_passes():
    a = acx_figures(chapter(), SR)
    assert a.passed, a.reasons
    assert a.rms_db == pytest.approx(-20.5, abs=0.5) and a.noise_floor_db == pytest.approx(-70, abs=1)
    assert a.head_tone == pytest.approx(0.7, abs=0.03) and a.tail_tone == pytest.approx(2.0, abs=0.03)


@pytest.mark.parametrize("kw, words", [({"level_db": -4.0}, "true peak"), ({"level_db": -30.0}, "RMS"),
                                       ({"floor_db": -50.0}, "noise floor"), ({"head": 0.1}, "head room tone"),
                                       ({"tail": 0.2}, "tail room tone")])
def test_each_acx_fault_is_named(kw, words):
    a = acx_figures(chapter(**kw), SR)
    assert not a.passed and any(words in r for r in a.reasons), a.reasons


def test_true_peak_sees_inter_sample_overs():
    x = np.tile(np.array([0.9, 0.9, -0.9, -0.9], np.float32), 1000)  # fs/4 square: true peak ~1.27
    assert true_peak(x) > 1.2 > np.max(np.abs(x))
