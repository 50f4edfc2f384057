"""Acceptance on real speech: LJ clips pass every check; planted faults on LJ clips and on espeak speech of corpus
sentences are each caught with the right reason; the espeak false-alarm rate over 200 sentences stays under 5%."""

from __future__ import annotations

import numpy as np
import pytest

from engines.faults import OTHER_SENTENCE, Fault, FaultySpeech, plant
from qa.chunk import ChunkInput, check_chunks
from qa.pace import PaceModel
from qa.types import Check, ChunkContext

# the check that must fail for each planted fault (others may fail too)
EXPECTED = {
    Fault.TRUNCATE: Check.ASR, Fault.DROP_WORDS: Check.ASR, Fault.OTHER_SENTENCE: Check.ASR,
    Fault.PAD_SILENCE: Check.TRAIL_SILENCE, Fault.INNER_SILENCE: Check.INNER_SILENCE,
    Fault.NOISE_TAIL: Check.TAIL, Fault.MURMUR_TAIL: Check.TAIL, Fault.CLIP: Check.CLIPPING,
    Fault.SILENCE: Check.LOUDNESS, Fault.RUNAWAY: Check.RUNAWAY,
}


def _context(text: str, settings, hit_cap: bool = False) -> ChunkContext:
    return ChunkContext(text, expected=PaceModel(settings).expect(text), hit_cap=hit_cap, tokens=0, token_cap=None)


def _misses(cases, reports) -> list[str]:
    misses = []
    for (label, fault), rep in zip(cases, reports, strict=True):
        failed = rep.failed_checks()
        if EXPECTED[fault] not in failed:
            misses.append(f"{label} {fault}: failed {sorted(failed)}; {rep.reasons}")
        elif fault == Fault.TRUNCATE and not any("truncated" in r for r in rep.reasons):
            misses.append(f"{label} {fault}: not called truncated: {rep.reasons}")
    return misses


def test_every_lj_clip_passes_every_check(lj_clips, tiny_asr, settings):
    items = [ChunkInput(a, sr, _context(text, settings)) for _, a, sr, text in lj_clips]
    reports = check_chunks(items, settings, tiny_asr)
    for (name, *_), rep in zip(lj_clips, reports, strict=True):
        assert rep.asr_ran
        assert rep.passed, f"{name}: {rep.reasons}"


@pytest.mark.slow
def test_planted_faults_on_lj_clips_are_caught(lj_clips, tiny_asr, settings):
    rng = np.random.default_rng(0)
    cases, items = [], []
    for i, (name, audio, sr, text) in enumerate(lj_clips):
        other = lj_clips[(i + 1) % len(lj_clips)][3]
        for fault in Fault:
            said = text
            if fault == Fault.DROP_WORDS:  # cut 2 s (five or six words) out of the middle
                bad = np.concatenate([audio[: 3 * sr], audio[5 * sr:]])
            elif fault == Fault.OTHER_SENTENCE:
                bad, said = audio, other
            else:
                bad = plant(fault, audio, sr, rng)
            cases.append((name, fault))
            items.append(ChunkInput(bad, sr, _context(said, settings, hit_cap=fault == Fault.RUNAWAY)))
    assert not _misses(cases, check_chunks(items, settings, tiny_asr))


def test_planted_faults_on_espeak_speech_are_caught(espeak, corpus_sample, tiny_asr, settings):
    texts = corpus_sample(2, seed=7)
    planted, all_texts = {}, []
    for text in texts:
        for fault in Fault:  # the same text once per fault, chosen by call index
            planted[len(all_texts)] = fault
            all_texts.append(text)
    engine = FaultySpeech(espeak, faults=planted, sticky=True)
    voice = engine.prepare_voice(None)
    takes = engine.synthesize_takes(all_texts, voice, None, list(range(len(all_texts))))
    assert [p.fault for p in engine.planted] == [planted[i] for i in range(len(all_texts))]
    items = [ChunkInput(t.audio, engine.sample_rate, _context(text, settings, t.hit_cap))
             for t, text in zip(takes, all_texts, strict=True)]
    cases = [(text[:40], planted[i]) for i, text in enumerate(all_texts)]
    assert not _misses(cases, check_chunks(items, settings, tiny_asr))
    assert OTHER_SENTENCE not in all_texts


@pytest.mark.slow
def test_espeak_false_alarms_under_five_percent(espeak, corpus_sample, tiny_asr, settings):
    texts = corpus_sample(200, seed=0)
    voice = espeak.prepare_voice(None)
    audios = espeak.synthesize(texts, voice, None, list(range(len(texts))))
    reports = check_chunks([ChunkInput(a, espeak.sample_rate, _context(t, settings))
                            for a, t in zip(audios, texts, strict=True)], settings, tiny_asr)
    failed = [(r.text, r.reasons) for r in reports if not r.passed]
    assert len(failed) / len(texts) < 0.05, failed
