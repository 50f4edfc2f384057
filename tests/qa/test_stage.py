"""The QA stage over a chapter's chunks of a corpus book spoken by espeak with planted faults: the planted
chunks, and only those, are repaired on their second take; the book report lists exactly them."""

from engines.faults import Fault, FaultySpeech
from qa.pace import PaceModel
from qa.repair import ChunkState
from qa.report import BookReport, ChunkRecord
from qa.stage import ChunkTake, run_qa

PLANTED = {1: Fault.MURMUR_TAIL, 3: Fault.DROP_WORDS, 5: Fault.CLIP, 6: Fault.RUNAWAY}


def test_planted_chunks_are_repaired_and_reported(espeak, corpus_pool, tiny_asr, settings):
    texts = corpus_pool[40:48]  # eight consecutive sentences of the first corpus book
    engine = FaultySpeech(espeak, faults={texts[i]: f for i, f in PLANTED.items()})
    voice = engine.prepare_voice(None)
    seeds = [1000 + i for i in range(len(texts))]
    takes = engine.synthesize_takes(texts, voice, None, seeds)

    def synthesize(tx, sd):
        return engine.synthesize_takes(tx, voice, None, sd)

    pace = PaceModel(settings)
    chunks = [ChunkTake(f"key-{i}", t, s, tk) for i, (t, s, tk) in enumerate(zip(texts, seeds, takes, strict=True))]
    outcomes = run_qa(chunks,
                      synthesize=synthesize, sample_rate=engine.sample_rate, settings=settings,
                      transcriber=tiny_asr, pace=pace)
    states = {i: o.state for i, o in enumerate(outcomes)}
    assert {i for i, s in states.items() if s != ChunkState.PASSED} == set(PLANTED), \
        {i: (s, outcomes[i].attempts) for i, s in states.items()}
    for i in PLANTED:
        o = outcomes[i]
        assert o.state in (ChunkState.REPAIRED, ChunkState.TRIMMED) and o.attempts[-1].passed, o.attempts
        assert len([a for a in o.attempts if a.kind == "take"]) <= 2  # repaired by the second take at the latest
    assert len(pace.to_dict()["logs"]) == len(texts)

    start = 0.0
    records = []
    for i, (t, o) in enumerate(zip(texts, outcomes, strict=True)):
        records.append(ChunkRecord(0, i, t, o.state, len(o.attempts), tuple(o.scores), o.report.results, start,
                                   start, len(o.audio) / engine.sample_rate, f"key-{i}", tuple(o.reasons)))
        start += len(o.audio) / engine.sample_rate
    report = BookReport("Corpus", "Author", tuple(records), (), "tiny.en")
    listed = {r.position for r in report.by_state(ChunkState.TRIMMED, ChunkState.REPAIRED, ChunkState.SPLIT,
                                                  ChunkState.FAILED)}
    assert listed == set(PLANTED)
