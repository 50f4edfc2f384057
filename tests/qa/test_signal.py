"""Each signal check passes clean speech-like audio and fails its own fault with its reason."""

import numpy as np
import pytest

from qa.pace import PaceModel
from qa.settings import QASettings
from qa.signal import (
    check_clipping,
    check_dc_offset,
    check_duration,
    check_inner_silence,
    check_lead_silence,
    check_loudness,
    check_noise,
    check_runaway,
    check_tail,
    check_trail_silence,
    signal_checks,
)
from qa.types import Check, ChunkContext

SR = 16000
S = QASettings()
TEXT = "A plain sentence of about forty letters here."  # 37 letters: ~2.8 s at the prior pace


def voiced(seconds, amp=0.2):
    """Speech-like: a 150 Hz buzz with harmonics, syllable-modulated at 4 Hz (never fully silent)."""
    t = np.arange(int(seconds * SR)) / SR
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 6))
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    return (amp * buzz * env / 2).astype(np.float32)


def sil(seconds):
    return np.zeros(int(seconds * SR), np.float32)


CTX = ChunkContext(TEXT)
CLEAN = np.concatenate([sil(0.2), voiced(3.0), sil(0.3)])


def test_clean_audio_passes_every_signal_check():
    results = signal_checks(CLEAN, SR, CTX, S)
    assert [r.check for r in results if not r.passed] == []
    assert len(results) == 10


@pytest.mark.parametrize("check, audio, words", [
    (check_lead_silence, np.concatenate([sil(2.0), voiced(3.0)]), "2.00 s of silence before"),
    (check_trail_silence, np.concatenate([voiced(3.0), sil(3.0)]), "3.00 s of silence after"),
    (check_inner_silence, np.concatenate([voiced(1.5), sil(2.5), voiced(1.5)]), "2.50 s silence inside"),
    (check_clipping, np.clip(voiced(3.0) * 10, -1, 1), "clipped"),
    (check_dc_offset, voiced(3.0) + 0.1, "DC offset +0.1"),
    (check_loudness, voiced(3.0, amp=0.01), "too quiet"),
    (check_loudness, sil(3.0), "no sound"),
    (check_noise, np.concatenate([voiced(3.0), (np.random.default_rng(1).standard_normal(SR) * 0.05
                                                ).astype(np.float32)]), "noise-like sound at 3.00 s"),
    (check_tail, np.concatenate([voiced(3.0), (np.random.default_rng(1).standard_normal(SR) * 0.05
                                               ).astype(np.float32)]), "after the last voiced frame"),
    (check_duration, voiced(0.8), "too short"),
    (check_duration, voiced(9.0), "too long"),
])
def test_each_check_fails_its_fault(check, audio, words):
    r = check(audio, SR, CTX, S)
    assert not r.passed and words in r.reason, r
    assert check(CLEAN, SR, CTX, S).passed


def test_tail_uses_the_last_heard_word_when_known():
    audio = np.concatenate([voiced(3.0), sil(0.2), voiced(1.0)])  # a murmur is voiced: only ASR can tell
    assert check_tail(audio, SR, CTX, S).passed
    r = check_tail(audio, SR, ChunkContext(TEXT, speech_end=3.0), S)
    assert not r.passed and "after the last word at 3.35 s" in r.reason
    assert r.figures["tail"] == pytest.approx(0.85, abs=0.05)


def test_runaway_fails_only_when_the_cap_was_hit():
    assert check_runaway(CLEAN, SR, ChunkContext(TEXT, tokens=200, token_cap=400), S).passed
    r = check_runaway(CLEAN, SR, ChunkContext(TEXT, tokens=400, token_cap=400, hit_cap=True), S)
    assert r.check == Check.RUNAWAY and not r.passed and "400 of 400" in r.reason


def test_duration_uses_the_books_learned_band():
    pace = PaceModel(S)
    for _ in range(S.learned_after):
        pace.accept(TEXT, 5.5)  # this voice reads slowly: ~2x the prior
    slow = ChunkContext(TEXT, expected=pace.expect(TEXT))
    assert check_duration(voiced(5.5), SR, slow, S).passed
    assert not check_duration(voiced(3.0), SR, slow, S).passed  # normal for the prior, too fast for this book


def test_signal_checks_cost_well_under_a_percent_of_real_time():
    import time

    audio = np.tile(CLEAN, 20)  # 70 s
    t = time.perf_counter()
    signal_checks(audio, SR, CTX, S)
    assert time.perf_counter() - t < 0.7  # generous: measured ~0.02 s (bench/bench_qa.py reports the figure)
