"""Two synthesis workers on one book (real redis-server, real `tomecast worker` processes, tiny model on the CPU):
both make chunks of it, no chunk is made twice, and the M4B holds every chapter."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import steps
from pipeline.stitch import probe
from pipeline.store import Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TIMEOUT_S = 80
# Celery's line for a finished task: "Task tomecast.synthesize[<uuid>] succeeded in 0.4s: {'synthesized': 1, ...}"
_DONE = re.compile(r"Task tomecast\.synthesize\[[^\]]+\] succeeded in [\d.e-]+s: (\{.*\})")


def _wait(predicate, what: str, logs: list[Path], timeout: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    tails = "\n".join(f"--- {p.name}\n" + p.read_text(errors="replace")[-2000:] for p in logs if p.exists())
    pytest.fail(f"{what} not within {timeout} s\n{tails}")


def _synthesized(log: Path) -> int:
    """Chunks a worker made, from its log of finished synthesize tasks."""
    return sum(ast.literal_eval(m.group(1))["synthesized"] for m in _DONE.finditer(log.read_text(errors="replace")))


def test_two_workers_share_one_book_without_duplicates(tmp_path, redis_url, tiny_checkpoint, tiny_env, excerpt_book,
                                                        tiny_voice, start_worker):
    import redis

    redis.Redis.from_url(redis_url).flushall()   # the session's redis: no task of another test is left queued
    data = tmp_path / "data"
    # one chunk per task, so the queue holds many small tasks for two workers to share
    env = tiny_env(data, tiny_checkpoint, redis_url, TOMECAST_CHUNKS_PER_TASK="1", TOMECAST_BATCH_SIZE="1",
                   TOMECAST_QA_ASR="0", TOMECAST_QA_REPAIR="0")
    gpus = [start_worker(env, "gpu", f"gpu{i}") for i in range(2)]
    cpu = start_worker(env, "cpu", "cpu")
    logs = [w.log for w in (*gpus, cpu)]
    # both synthesis workers listen before the book arrives, or the first could take it all
    _wait(lambda: all(w.log.exists() and " ready." in w.log.read_text(errors="replace") for w in (*gpus, cpu)),
          "three workers ready", logs)

    r = subprocess.run([sys.executable, "-m", "worker.cli", "submit", str(excerpt_book), "--voice", str(tiny_voice)],
                       cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    job = r.stdout.strip().splitlines()[-1]
    store = Store(data)
    _wait(lambda: store.state(job).state in ("done", "failed"), f"job {job} finished", logs)
    assert store.state(job).state == "done", store.state(job).error
    for w in gpus:   # every task is logged by the time the job is done but flush-order is not guaranteed
        w.stop()

    plan = steps.load_plan(store, job)
    manifest = store.manifest(job)
    planned = sum(len(ch.chunks) for ch in plan.chapters)
    made = [_synthesized(w.log) for w in gpus]
    assert all(n > 0 for n in made), f"one worker made every chunk: {made}"
    assert sum(made) == planned, f"workers made {made} chunks for a plan of {planned}"
    assert len(manifest.chunks) == planned
    assert all(c.state == "done" and c.synthesized and c.attempts == 1 for c in manifest.chunks), \
        [(c.id, c.state, c.attempts) for c in manifest.chunks if c.attempts != 1 or c.state != "done"]
    assert not store.state(job).duplicates

    info = probe(Path(store.state(job).output))
    assert [c["tags"]["title"] for c in info["chapters"]] == [ch.title for ch in plan.chapters]
    total = sum(ch.duration for ch in manifest.chapters)
    assert float(info["format"]["duration"]) == pytest.approx(total, abs=0.5)
