"""The repair policy on espeak speech with planted faults: trim a tail, re-take with a new seed, split, or accept
with failure; seeds derive from the chunk key; clause splitting."""

import pytest

from engines.faults import Fault, FaultySpeech
from qa.chunk import check_chunk
from qa.pace import PaceModel
from qa.repair import ChunkState, repair_chunk, repair_seeds, split_clause
from qa.types import ChunkContext

TEXT = "The lamp was lit in the window, and we waited for the bell to ring."
KEY = "chunk-key-0001"


def _policy(engine, settings, asr=None, text=TEXT, **kw):
    voice = engine.prepare_voice(None)
    sr = engine.sample_rate

    def synthesize(texts, seeds):
        return engine.synthesize_takes(texts, voice, None, seeds)

    def check(take, text):
        ctx = ChunkContext(text, hit_cap=take.hit_cap, expected=PaceModel(settings).expect(text))
        return check_chunk(take.audio, sr, ctx, settings, asr)

    first = synthesize([text], [7])[0]
    return repair_chunk(text, KEY, first, 7, synthesize=synthesize, check=check, sample_rate=sr, **kw)


def test_clean_first_take_passes(espeak, settings):
    out = _policy(FaultySpeech(espeak), settings)
    assert out.state == ChunkState.PASSED and len(out.attempts) == 1 and out.reasons == []


def test_a_bad_first_take_is_repaired_by_a_new_seed(espeak, settings):
    engine = FaultySpeech(espeak, faults={TEXT: Fault.CLIP})
    out = _policy(engine, settings)
    assert out.state == ChunkState.REPAIRED
    assert [a.passed for a in out.attempts] == [False, True]
    assert out.attempts[1].seed == repair_seeds(KEY, 1)[0]
    assert "clipping" in out.attempts[0].reasons[0]


def test_a_tail_is_trimmed_not_regenerated(espeak, settings, tiny_asr):
    text = "We walked along the river until the evening came."
    engine = FaultySpeech(espeak, faults={text: Fault.MURMUR_TAIL})
    out = _policy(engine, settings, asr=tiny_asr, text=text)
    assert out.state == ChunkState.TRIMMED, out.attempts
    assert [a.kind for a in out.attempts] == ["take", "trim"] and len(engine.planted) == 1
    clean = espeak.synthesize([text], espeak.voice, None, [7])[0]
    assert len(clean) - 0.4 * engine.sample_rate < len(out.audio) < len(clean) + 0.2 * engine.sample_rate


def test_a_text_that_always_fails_is_split(espeak, settings):
    engine = FaultySpeech(espeak, faults={TEXT: Fault.SILENCE}, sticky=True)  # the halves are other texts
    out = _policy(engine, settings, max_takes=2)
    assert out.state == ChunkState.SPLIT
    assert [a.kind for a in out.attempts] == ["take", "take", "take", "split"]
    assert out.texts == ("The lamp was lit in the window,", "and we waited for the bell to ring.")


def test_accepted_with_failure_keeps_the_best_take_and_its_reasons(espeak, settings):
    engine = FaultySpeech(espeak, rate=1.0, kinds=[Fault.SILENCE], sticky=True)
    out = _policy(engine, settings, max_takes=2)
    assert out.state == ChunkState.FAILED
    assert any(r.startswith("loudness: no sound") for r in out.reasons)
    assert len(out.attempts) == 4 and not any(a.passed for a in out.attempts)


def test_repair_is_deterministic(espeak, settings):
    a = _policy(FaultySpeech(espeak, faults={TEXT: Fault.CLIP}), settings)
    b = _policy(FaultySpeech(espeak, faults={TEXT: Fault.CLIP}), settings)
    assert (a.audio == b.audio).all() and a.scores == b.scores
    assert repair_seeds("k", 3) == repair_seeds("k", 3) != repair_seeds("j", 3)
    assert all(0 <= s < 2**31 for s in repair_seeds("k", 3))


@pytest.mark.parametrize("text, halves", [
    ("One sentence here. And another one there.", ("One sentence here.", "And another one there.")),
    ("He came in; she left, and then the door shut.", ("He came in; she left,", "and then the door shut.")),
    ("no clause marks in this short line of words", ("no clause marks in this", "short line of words")),
    ("Too short.", None),
])
def test_split_clause(text, halves):
    assert split_clause(text) == halves
