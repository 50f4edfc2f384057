"""check_chunks on real speech: a murmur tail is found by ASR and gets a trim point that, once cut, passes."""

import numpy as np

from engines.faults import Fault, plant
from qa.chunk import ChunkInput, check_chunks, score, trim_point
from qa.features import analyze
from qa.pace import PaceModel
from qa.settings import QASettings
from qa.types import Check, CheckResult, ChunkContext


def test_murmur_tail_is_trimmed_at_the_last_word(lj_clips, tiny_asr, settings):
    name, audio, sr, text = lj_clips[0]
    bad = plant(Fault.MURMUR_TAIL, audio, sr, np.random.default_rng(0))
    ctx = ChunkContext(text, expected=PaceModel(settings).expect(text))
    (rep,) = check_chunks([ChunkInput(bad, sr, ctx)], settings, tiny_asr)
    assert Check.TAIL in rep.failed_checks() and rep.trim_at is not None
    assert len(audio) / sr - 0.4 < rep.trim_at <= len(audio) / sr + 0.05
    (again,) = check_chunks([ChunkInput(bad[: int(rep.trim_at * sr)], sr, ctx)], settings, tiny_asr)
    assert again.passed, again.reasons


def test_trim_point_is_the_longest_pause_near_the_word_end():
    sr = 16000
    on, off = np.full(sr // 2, 0.1, np.float32), np.zeros(sr // 5, np.float32)
    x = np.concatenate([on, on, off, on, off, off, on])  # pauses at 1.0 s (0.2 s) and 1.7 s (0.4 s)
    fr = analyze(x, sr, QASettings())
    assert trim_point(fr, 1.9) == 1.75   # word end drifted late into the tail: the longer, earlier pause
    assert trim_point(fr, 0.3) == 1.05   # no pause near: the first one after


def test_score_is_asr_accuracy_halved_per_failed_signal_check():
    rs = [CheckResult(Check.ASR, True, {"accuracy": 0.9}), CheckResult(Check.TAIL, False),
          CheckResult(Check.CLIPPING, True)]
    assert score(rs) == 0.45
