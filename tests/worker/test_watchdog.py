"""The watchdog with a real Redis and no worker: a quiet job gets exactly its work without a live task
dispatched again (once: the next pass finds it queued); a job with a live lease or a recent sign of life is left
alone; finished jobs are never touched."""

from __future__ import annotations

import os
import time

import pytest

from pipeline.jobs import submit_job
from pipeline.leases import Lease
from pipeline.manifest import Manifest
from pipeline.schedule import Step, StepKind
from pipeline.spec import JobOptions
from pipeline.states import ChunkState, JobState
from pipeline.store import Store
from text_prep.types import Book, Chapter, Chunk, Pause
from worker.broker import queued_steps
from worker.settings import Settings
from worker.watchdog import QUEUES, check_jobs


def book() -> Book:
    chapters = []
    for ci, n in enumerate((3, 2)):
        chunks = tuple(Chunk.make(i, f"Sentence {ci}.{i}.", f"Sentence {ci}.{i}.", (0, 0), Pause.SENTENCE)
                       for i in range(n))
        chapters.append(Chapter(ci, f"Chapter {ci + 1}", chunks, f"c{ci}.xhtml"))
    return Book("A Book", "An Author", "en", tuple(chapters))


def quiet_job(store: Store, tmp_path, states: list[str], age: float = 3600, qa_queue: str = "") -> str:
    src = tmp_path / "book.txt"
    src.write_text("CHAPTER I.\n\nHello.\n")
    job_id = submit_job(store, src, JobOptions(chunks_per_task=2, qa_queue=qa_queue))
    plan = book()
    (store.job_dir(job_id) / "plan.json").write_text(plan.to_json())
    m = Manifest.build(job_id, plan, model_id="m", voice_key="v", sample_rate=24000, sampling={}, seed=0,
                       cache_exists=lambda key: False)
    store.write_manifest(m.with_chunks({c.id: {"state": s} for c, s in zip(m.chunks, states, strict=True)}))
    store.update_state(job_id, state=JobState.SYNTHESIZING)
    old = time.time() - age
    for name in ("state.json", "manifest.json"):
        os.utime(store.job_dir(job_id) / name, (old, old))
    return job_id


@pytest.fixture
def setup(tmp_path, redis_url):
    import redis

    from worker.app import use_settings

    url = redis_url.rsplit("/", 1)[0] + "/6"   # a database of its own: flushed here
    redis.Redis.from_url(url).flushdb()
    settings = Settings(broker_url=url, data_dir=tmp_path / "data", heartbeat=1.0)
    use_settings(settings)
    yield settings, Store(settings.data_dir).ensure()
    redis.Redis.from_url(url).flushdb()


def test_a_quiet_job_gets_exactly_its_lost_work_once(setup, tmp_path):
    settings, store = setup
    job_id = quiet_job(store, tmp_path, ["done", "pending", "pending", "done", "pending"])
    sent = check_jobs(settings)
    S = StepKind.SYNTHESIZE
    assert sent == {job_id: [Step(S, 0, (1, 2)), Step(S, 1, (1,))]}
    held = queued_steps(settings.broker_url, QUEUES, 60, time.time())[job_id]
    assert sorted(held, key=lambda s: s.chapter) == sent[job_id]
    old = time.time() - 3600   # still quiet on disk, but its tasks are queued: nothing sent again
    os.utime(store.job_dir(job_id) / "state.json", (old, old))
    assert check_jobs(settings) == {}


def test_a_live_lease_or_a_recent_change_keeps_the_watchdog_away(setup, tmp_path):
    settings, store = setup
    live = quiet_job(store, tmp_path, ["done", "pending", "pending", "done", "done"])
    recent = quiet_job(store, tmp_path, ["pending"] * 5, age=0)
    done = quiet_job(store, tmp_path, ["done"] * 5)
    store.update_state(done, state=JobState.DONE)
    os.utime(store.job_dir(done) / "state.json", (0, 0))
    with Lease(store, live, Step(StepKind.SYNTHESIZE, 0, (1, 2)), interval=0.1):
        assert check_jobs(settings) == {}
    assert store.manifest(recent).count(ChunkState.PENDING) == 5


def test_lost_checks_go_again_to_the_jobs_qa_queue_and_are_seen_there(setup, tmp_path):
    """The worker running the watchdog names no QA queue: the job's own (job.json) is watched all the same."""
    settings, store = setup
    job_id = quiet_job(store, tmp_path, ["done", "unchecked", "unchecked", "pending", "done"], qa_queue="qa-cpu")
    C, S = StepKind.CHECK, StepKind.SYNTHESIZE
    assert check_jobs(settings) == {job_id: [Step(C, 0, (1, 2)), Step(S, 1, (0,))]}
    assert queued_steps(settings.broker_url, ("qa-cpu",), 60, time.time())[job_id] == [Step(C, 0, (1, 2))]
    old = time.time() - 3600
    os.utime(store.job_dir(job_id) / "state.json", (old, old))
    assert check_jobs(settings) == {}


def test_a_job_whose_chunks_are_all_made_gets_its_stitches_then_its_assembly(setup, tmp_path):
    settings, store = setup
    job_id = quiet_job(store, tmp_path, ["done"] * 5)
    assert check_jobs(settings) == {job_id: [Step(StepKind.STITCH, 0), Step(StepKind.STITCH, 1)]}


def test_work_re_sent_without_progress_fails_the_job_until_retry(setup, tmp_path):
    import dataclasses

    import redis

    from pipeline.jobs import retry_job

    settings, store = setup
    settings = dataclasses.replace(settings, max_resends=2)
    job_id = quiet_job(store, tmp_path, ["done", "pending", "done", "done", "done"])
    for _ in range(2):   # each pass's message is lost (the task fails for good) and the job goes quiet again
        assert list(check_jobs(settings)) == [job_id]
        redis.Redis.from_url(settings.broker_url).flushdb()
        old = time.time() - 3600
        os.utime(store.job_dir(job_id) / "state.json", (old, old))
    assert check_jobs(settings) == {}
    record = store.state(job_id)
    assert record.state == JobState.FAILED
    assert record.error == (f"stalled: synthesize-0-1-1, stitch_chapter-1 re-sent 2 times without progress; "
                            f"run `tomecast retry {job_id}`")
    retry_job(store, job_id)
    assert store.state(job_id).state == JobState.SYNTHESIZING
    old = time.time() - 3600
    os.utime(store.job_dir(job_id) / "state.json", (old, old))
    os.utime(store.job_dir(job_id) / "manifest.json", (old, old))
    assert list(check_jobs(settings)) == [job_id]   # counted from 1 again
