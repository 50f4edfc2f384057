"""QA on its own queue with real parts: redis-server, a synthesis worker (`gpu,cpu`, espeak with faults planted on
three first takes) and a QA worker (`--queues qa`, Whisper tiny.en) as separate processes, `tomecast submit
--qa-queue qa`: the job completes, every first take is heard by the QA worker, the planted faults are caught there and
repaired by the synthesis worker, and the book keeps the same takes and verdicts as the same book converted in this
process with inline QA."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import steps
from pipeline.jobs import submit_job
from pipeline.spec import JobOptions
from pipeline.store import Store
from tests.pipeline.test_qa_queue import qa_record
from tests.pipeline.test_qa_stage import Engine, corpus_book, speech_texts

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# Celery's line for a finished task: "Task tomecast.check_chunks[<uuid>] succeeded in 0.4s: {'checked': 4, ...}"
_CHECKED = re.compile(r"Task tomecast\.check_chunks\[[^\]]+\] succeeded in [\d.e-]+s: (\{.*\})")


@pytest.fixture
def faulty_worker(tmp_path):
    """faulty_worker(env, queues) -> (process, log): `tomecast worker` with faults planted (faulty_worker.py), one
    process; stopped at the end."""
    procs: list[subprocess.Popen] = []

    def start(env: dict[str, str], queues: str) -> tuple[subprocess.Popen, Path]:
        log = tmp_path / f"faulty-{len(procs)}.log"
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "tests.worker.faulty_worker", "--queues", queues, "--name",
             f"faulty{len(procs)}@test", "--concurrency", "1", "--loglevel", "info"],
            cwd=REPO, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True))
        return procs[-1], log

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=30)


def _wait(predicate, what: str, logs: list[Path], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    pytest.fail(f"{what} not within {timeout} s\n{tails}")


def test_a_qa_worker_checks_every_take_while_the_synthesis_worker_repairs_the_failed(
        tmp_path, redis_url, whisper_tiny, start_worker, faulty_worker):
    import redis

    from engines.espeak import EspeakSpeech, espeak_available
    from engines.faults import Fault, FaultySpeech

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    redis.Redis.from_url(redis_url).flushall()   # the session's redis: no task of another test is left queued
    book = corpus_book(tmp_path, ("II.", "III."), paragraphs=5)
    texts = speech_texts(book)
    planted = {texts[0][3]: Fault.DROP_WORDS, texts[1][2]: Fault.MURMUR_TAIL, texts[1][-2]: Fault.RUNAWAY}
    data = tmp_path / "data"
    env = {**os.environ, "TOMECAST_DATA": str(data), "TOMECAST_BROKER_URL": redis_url, "PYTHONPATH": str(REPO),
           "TOMECAST_BATCH_SIZE": "8", "TOMECAST_CHUNKS_PER_TASK": "8", "TOMECAST_HEARTBEAT": "1",
           "TOMECAST_TEST_FAULTS": json.dumps({t: str(f) for t, f in planted.items()})}
    synth, synth_log = faulty_worker(env, "gpu,cpu")
    qa = start_worker({**env, "TOMECAST_QA_QUEUE": "qa"}, "qa", "qa")
    logs = [synth_log, qa.log]
    _wait(lambda: all(p.exists() and " ready." in p.read_text(errors="replace") for p in logs), "two workers ready",
          logs, 60)
    r = subprocess.run([sys.executable, "-m", "worker.cli", "submit", str(book), "--engine", "espeak", "--qa-queue",
                        "qa", "--asr-model", whisper_tiny, "--asr-threads", "2"],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    job_id = r.stdout.strip().splitlines()[-1]
    store = Store(data)
    assert store.spec(job_id).qa_queue == "qa"
    _wait(lambda: store.state(job_id).state in ("done", "failed"), f"job {job_id} finished", logs, 400)
    assert store.state(job_id).state == "done", store.state(job_id).error
    qa.stop()   # its last lines flushed

    manifest = store.manifest(job_id)
    checks = [ast.literal_eval(m.group(1)) for m in _CHECKED.finditer(qa.log.read_text(errors="replace"))]
    # every first take was heard by the QA worker, once; the synthesis worker ran no check task
    assert sum(c["checked"] + c["retakes"] for c in checks) == len(manifest.chunks)
    assert not _CHECKED.search(synth_log.read_text(errors="replace"))
    plan = steps.load_plan(store, job_id)
    speech_of = {c.id: plan.chapters[c.chapter].chunks[c.position].speech for c in manifest.chunks}
    flagged = {speech_of[c.id]: c for c in manifest.chunks if c.qa_state != "passed"}
    assert sorted(flagged) == sorted(planted) and not manifest.qa_failed()
    # dropped words need a new take: sent back, repaired by the synthesis worker; a tail (the murmur, the runaway's
    # babble) is trimmed at the last heard word by the QA worker, or re-taken
    assert flagged[texts[0][3]].qa_state == "repaired"
    assert all(c.qa_state in ("trimmed", "repaired") for c in flagged.values())
    assert sum(c["retakes"] for c in checks) == sum(c.qa_state == "repaired" for c in flagged.values())
    assert all(c.qa_scores[-1] > c.qa_scores[0] for c in flagged.values())
    assert (store.job_dir(job_id) / "qa-report.md").is_file()

    # the same book in this process, QA inline: the same takes and verdicts
    inline = Store(tmp_path / "inline")
    inline_job = submit_job(inline, book, JobOptions(model="espeak", chunks_per_task=8,
                                                     qa={"asr_model": whisper_tiny, "asr_threads": 2}))
    assert steps.run_all(inline, inline_job, Engine(FaultySpeech(EspeakSpeech(), planted)), batch_size=8)
    assert qa_record(store, job_id) == qa_record(inline, inline_job)
