"""Typed job documents: a job folder written before they were typed (literal files below) still loads, reports
its status, retries, and is written back with the same keys."""

from __future__ import annotations

import json

import pytest

from pipeline.errors import StoreError
from pipeline.jobs import job_status, retry_job
from pipeline.record import JobRecord
from pipeline.spec import JobSpec
from pipeline.states import ChapterState, ChunkState, JobState
from pipeline.stitch import DEFAULT_PAUSES_MS, Stitching
from pipeline.store import Store

JOB_ID = "20261124-223000-3fa9c1"

# Exactly what the dict-based code wrote (tasks/jobs.py, tasks/store.py, tasks/manifest.py before the typing).
OLD_JOB = {
    "book_file": "book.txt", "chunks_per_task": 16, "created": "2026-11-24T22:30:00+00:00", "id": JOB_ID,
    "model": "ResembleAI/chatterbox", "name": "book.txt", "prepare": {"max_chars": 200}, "priority": 7,
    "revision": None,
    "sampling": {"cfg_weight": 0.5, "exaggeration": 0.5, "flow_cfg_rate": 0.7, "max_new_tokens": 1000,
                 "min_p": 0.05, "n_flow_steps": 10, "repetition_penalty": 1.2, "temperature": 0.7,
                 "tokens_per_char": 6.0, "top_p": 1.0},
    "seed": 3,
    "stitching": {"bitrate": "64k", "edge_ms": 30, "fade_ms": 8, "format": "mp3", "loudness_lufs": -18.0,
                  "pauses_ms": {"chapter": 2000, "paragraph": 800, "sentence": 350, "title": 1200},
                  "silence_db": -45.0, "true_peak_db": -3.0},
    "voice_file": "voice.wav", "voice_source": "/home/me/narrator.wav",
}
OLD_STATE = {
    "author": "An Author", "cover": None, "error": "A Book: 1 of 2 chapters not done, 1 chunk failed; run "
    f"`tomecast retry {JOB_ID}`", "finished": "2026-11-24T23:00:00+00:00", "model_id": "ResembleAI/chatterbox@abc",
    "prepared_started": "2026-11-24T22:30:05+00:00", "state": "failed", "synth_started": "2026-11-24T22:30:20+00:00",
    "title": "A Book", "updated": "2026-11-24T23:00:00+00:00", "voice_key": "0123456789abcdef",
}
OLD_MANIFEST = {
    "job": JOB_ID, "model_id": "ResembleAI/chatterbox@abc", "voice_key": "0123456789abcdef", "sample_rate": 24000,
    "chapters": [
        {"index": 0, "title": "Chapter 1", "chunks": 2, "state": "done", "file": "chapters/01 Chapter 1.mp3",
         "duration": 4.2, "stitch_key": "f" * 32, "stitched": True},
        {"index": 1, "title": "Chapter 2", "chunks": 1, "state": "failed", "file": None, "duration": None,
         "stitch_key": None, "stitched": False},
    ],
    "chunks": [
        {"id": "0.0", "chapter": 0, "position": 0, "key": "k00", "cache": "a" * 32, "seed": 11, "state": "done",
         "duration": 2.0, "attempts": 1, "synthesized": True, "error": None},
        {"id": "0.1", "chapter": 0, "position": 1, "key": "k01", "cache": "b" * 32, "seed": 12, "state": "done",
         "duration": 1.5, "attempts": 0, "synthesized": False, "error": None},
        {"id": "1.0", "chapter": 1, "position": 0, "key": "k10", "cache": "c" * 32, "seed": 13, "state": "failed",
         "duration": None, "attempts": 3, "synthesized": False, "error": "RuntimeError: boom"},
    ],
}


@pytest.fixture
def old_job(tmp_path) -> Store:
    folder = tmp_path / "jobs" / JOB_ID
    (folder / "input").mkdir(parents=True)
    (folder / "chapters").mkdir()
    for name, doc in (("job.json", OLD_JOB), ("state.json", OLD_STATE), ("manifest.json", OLD_MANIFEST)):
        (folder / name).write_text(json.dumps(doc, indent=1, sort_keys=True))
    return Store(tmp_path)


def test_an_old_job_folder_loads_as_typed_documents(old_job):
    spec, record, manifest = old_job.spec(JOB_ID), old_job.state(JOB_ID), old_job.manifest(JOB_ID)
    assert (spec.priority, spec.seed, spec.sampling.temperature, spec.voice_file) == (7, 3, 0.7, "voice.wav")
    assert spec.stitching.pauses_ms["title"] == 1200 and spec.prepare == {"max_chars": 200}
    assert record.state is JobState.FAILED and record.voice_key == "0123456789abcdef" and record.final
    assert manifest.chapters[1].state is ChapterState.FAILED and manifest.chunk(1, 0).state is ChunkState.FAILED
    assert manifest.chunk(0, 1).duration == 1.5 and manifest.chapter_chunks(0)[0].synthesized
    status = job_status(old_job, JOB_ID[-6:])
    assert (status.chunks_done, status.chunks_failed, status.chapters_done, status.audio_seconds) == (2, 1, 1, 3.5)
    assert status.errors[0] == "chunk 1.0: RuntimeError: boom"


def test_typed_documents_write_back_the_same_files(old_job):
    spec, manifest = old_job.spec(JOB_ID), old_job.manifest(JOB_ID)
    # pause kinds (line, scene) and room tone (head, tail) added since take their defaults; every old field writes
    # back as it was
    pauses = {**DEFAULT_PAUSES_MS, **OLD_JOB["stitching"]["pauses_ms"]}
    tone = {"head_ms": Stitching().head_ms, "tail_ms": Stitching().tail_ms}
    assert spec.to_dict() == {**OLD_JOB, "stitching": {**OLD_JOB["stitching"], **tone, "pauses_ms": pauses}}
    assert JobSpec.from_json(spec.to_json()) == spec
    queued = JobSpec.from_dict({**OLD_JOB, "qa_queue": "qa"})   # a job whose checks run on a QA queue
    assert queued.qa_queue == "qa" and JobSpec.from_json(queued.to_json()) == queued and spec.qa_queue == ""
    assert manifest.to_dict() == OLD_MANIFEST
    record = old_job.state(JOB_ID)
    assert {k: v for k, v in OLD_STATE.items() if v is not None} == record.to_dict()
    assert JobRecord.from_json(record.to_json()) == record


def test_an_old_failed_job_retries(old_job):
    _, work = retry_job(old_job, JOB_ID)
    assert [u.positions for u in work[1]] == [(0,)] and 0 not in work
    assert old_job.state(JOB_ID).state == JobState.SYNTHESIZING and old_job.state(JOB_ID).error is None
    on_disk = json.loads((old_job.job_dir(JOB_ID) / "manifest.json").read_text())
    assert on_disk["chunks"][2]["state"] == "pending" and on_disk["chunks"][2]["attempts"] == 3
    assert set(on_disk["chunks"][2]) == set(OLD_MANIFEST["chunks"][2])


def test_a_corrupt_or_unknown_document_is_one_line(old_job):
    (old_job.job_dir(JOB_ID) / "state.json").write_text('{"state": "exploded"}')
    with pytest.raises(StoreError, match="unknown job state 'exploded'"):
        old_job.state(JOB_ID)
    (old_job.job_dir(JOB_ID) / "manifest.json").write_text('{"job": "x"}')
    with pytest.raises(StoreError, match="is not a manifest"):
        old_job.manifest(JOB_ID)
