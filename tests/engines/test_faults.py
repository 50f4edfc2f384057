"""The fault-planting wrapper: chosen by text, index or seeded rate; first take only unless sticky; each fault
changes the audio as named and is recorded."""

import numpy as np
import pytest

from engines.faults import Fault, FaultySpeech, plant

SR = 16000


def speech():
    t = np.arange(SR * 2) / SR
    return (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)


@pytest.mark.parametrize("fault, check", [
    (Fault.TRUNCATE, lambda x, y: len(y) == int(len(x) * 0.55)),
    (Fault.PAD_SILENCE, lambda x, y: len(y) == len(x) + 3 * SR and not y[len(x):].any()),
    (Fault.INNER_SILENCE, lambda x, y: len(y) == len(x) + 3 * SR and not y[SR: 4 * SR].any()),
    (Fault.NOISE_TAIL, lambda x, y: len(y) == len(x) + int(1.5 * SR) and y[len(x):].std() > 0.02),
    (Fault.MURMUR_TAIL, lambda x, y: len(y) == len(x) + int(1.5 * SR) and np.abs(y[len(x):]).max() > 0.05),
    (Fault.CLIP, lambda x, y: np.mean(np.abs(y) >= 1.0) > 0.3),
    (Fault.SILENCE, lambda x, y: len(y) == len(x) and not y.any()),
    (Fault.RUNAWAY, lambda x, y: len(y) == 4 * len(x)),
])
def test_each_fault_changes_the_audio(fault, check):
    x = speech()
    assert check(x, plant(fault, x, SR, np.random.default_rng(0)))


def test_chosen_by_text_and_index_first_take_only(espeak):
    engine = FaultySpeech(espeak, faults={"Second text here.": Fault.SILENCE, 2: Fault.RUNAWAY})
    v = engine.prepare_voice(None)
    takes = engine.synthesize_takes(["First text here.", "Second text here.", "Third text here."], v, None, [1, 2, 3])
    assert [(p.index, p.fault, p.seed) for p in engine.planted] == [(1, Fault.SILENCE, 2), (2, Fault.RUNAWAY, 3)]
    assert not takes[1].audio.any() and takes[2].hit_cap and not takes[0].hit_cap
    again = engine.synthesize_takes(["Second text here."], v, None, [9])  # a re-take is clean
    assert again[0].audio.any() and len(engine.planted) == 2
    assert engine.model_id == espeak.model_id


def test_dropped_words_and_other_sentence_change_what_is_said(espeak):
    text = "one two three four five six seven eight nine"
    engine = FaultySpeech(espeak, faults={0: Fault.DROP_WORDS, 1: Fault.OTHER_SENTENCE})
    v = engine.prepare_voice(None)
    dropped, other = engine.synthesize([text, text + "."], v, None, [1, 1])
    clean = espeak.synthesize([text], v, None, [1])[0]
    assert len(dropped) < 0.85 * len(clean) and len(other) > 1.2 * len(clean)


def test_seeded_rate_is_deterministic(espeak):
    texts = [f"Sentence number {i}." for i in range(200)]
    picks = []
    for _ in range(2):
        engine = FaultySpeech(espeak, rate=0.05, seed=3, kinds=[Fault.SILENCE])
        for t in texts:
            engine._choose(0, t) and picks.append(t)
    half = len(picks) // 2
    assert picks[:half] == picks[half:] and 2 <= half <= 25
