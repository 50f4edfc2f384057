"""Manifest: every chunk once with its seed and cache key, work split into tasks, status counts and ETA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipeline.keys import chunk_cache_key, chunk_seed
from pipeline.manifest import Manifest
from pipeline.record import JobRecord
from pipeline.spec import JobOptions, JobSpec
from pipeline.states import ChapterState, ChunkState
from pipeline.status import summarize
from text_prep.types import Book, Chapter, Chunk, Pause

SPEC = JobSpec("j", "book.txt", "", "book.txt", None, None, JobOptions(priority=5))


def _book() -> Book:
    chapters = []
    for ci, n in enumerate((5, 1, 3)):
        chunks = tuple(Chunk.make(i, f"Line {ci}-{i}.", f"Line {ci}-{i}.", (0, 0), Pause.SENTENCE) for i in range(n))
        chapters.append(Chapter(ci, f"Chapter {ci + 1}", chunks, "x"))
    return Book("T", "A", "en", tuple(chapters))


def test_manifest_lists_every_chunk_with_seed_and_cache_key():
    book = _book()
    cached = chunk_cache_key("m", "v", {"t": 1}, chunk_seed(4, book.chapters[0].chunks[2].key), "Line 0-2.")
    m = Manifest.build("j", book, model_id="m", voice_key="v", sample_rate=24000, sampling={"t": 1}, seed=4,
                       cache_exists=lambda key: key == cached)
    assert [c.id for c in m.chunks] == ["0.0", "0.1", "0.2", "0.3", "0.4", "1.0", "2.0", "2.1", "2.2"]
    assert [c.state for c in m.chunks].count("done") == 1 and m.chunks[2].state == "done"
    assert len({c.seed for c in m.chunks}) == 9 and len({c.cache for c in m.chunks}) == 9
    work = m.pending_work(chunks_per_task=2)
    assert {ch: [u.positions for u in units] for ch, units in work.items()} == \
        {0: [(0, 1), (3, 4)], 1: [(0,)], 2: [(0, 1), (2,)]}
    assert work[0][1].label == "3-4" and work[1][0].label == "0"


def test_summary_counts_and_eta():
    m = Manifest.build("j", _book(), model_id="m", voice_key="v", sample_rate=24000, sampling={}, seed=0,
                       cache_exists=lambda key: False)
    m = m.with_chunks({c.id: {"state": ChunkState.DONE, "synthesized": True, "duration": 30.0} for c in m.chunks[:3]})
    m = m.with_chunks({m.chunks[3].id: {"state": ChunkState.FAILED, "error": "boom"}})
    m = m.with_chapter(1, state=ChapterState.DONE)
    started = (datetime.now(UTC) - timedelta(seconds=60)).isoformat()
    s = summarize(SPEC, JobRecord(state="synthesizing", title="T", synth_started=started), m)
    assert (s.chunks_done, s.chunks_failed, s.chunks, s.chapters_done, s.chapters) == (3, 1, 9, 1, 3)
    assert s.audio_seconds == 90.0 and s.errors == ("chunk 0.3: boom",)
    # 3 chunks in ~60 s, 5 left -> ~100 s
    assert 90 < s.eta_seconds < 110
    done = summarize(SPEC, JobRecord(state="done"), m)
    assert done.eta_seconds is None


def test_manifest_round_trips_and_changes_return_new_manifests():
    m = Manifest.build("j", _book(), model_id="m", voice_key="v", sample_rate=24000, sampling={}, seed=0,
                       cache_exists=lambda key: False)
    assert Manifest.from_json(m.to_json()) == m
    failed = m.with_chunks({"2.1": {"state": ChunkState.FAILED, "error": "boom"}}).with_chapter(2, state="failed")
    assert m.chunk(2, 1).state == "pending" and failed.chunk(2, 1).state == "failed"   # frozen: m unchanged
    assert failed.chapter_chunks(2)[1].error == "boom" and failed.chapters[2].state == ChapterState.FAILED
    retried = failed.with_failures_reset()
    assert retried.chunk(2, 1).state == "pending" and retried.chunk(2, 1).error is None
    assert retried.chapters[2].state == "pending" and retried.with_attempt(["0.0"]).chunks[0].attempts == 1


def test_the_file_holds_a_chunk_a_line_and_reads_back_equal():
    import json

    m = Manifest.build("j", _book(), model_id="m", voice_key="v", sample_rate=24000, sampling={}, seed=0,
                       cache_exists=lambda key: False)
    m = m.with_chunks({m.chunks[1].id: {"qa_state": "failed", "qa_reasons": ("asr: 'café' missing",),
                                        "qa_scores": (0.4, 0.5)}})
    text = m.to_json()
    assert Manifest.from_json(text) == m and json.loads(text) == json.loads(json.dumps(m.to_dict()))
    rows = [line for line in text.splitlines() if line.lstrip().startswith('{"attempts"')]
    assert len(rows) == len(m.chunks) == 9 and "café" in text   # one chunk a line, text kept readable
