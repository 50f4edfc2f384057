"""Priorities end to end (real redis-server, real `tomecast submit`, one real `tomecast worker` of concurrency 1,
espeak-ng): 200 small books submitted at once with mixed priorities finish in priority order, every book of a
higher priority before any of a lower one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.store import Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BOOKS = 200
LEVELS = range(10)                    # tomecast priorities, 9 runs first
TIMEOUT_S = 600     # measured: 305 s on the shared 2-core machine, 1.5 s a book (0.8 s of it the QA report plot)

# Real `tomecast submit` in one process: lowest priority first, then highest first, so that submission order
# (what a FIFO queue would follow) disagrees with priority order for every level.
_SUBMIT = """
import json, sys
from worker.cli.main import main
for priority, books in json.loads(sys.argv[1]):
    if main(["submit", *books, "--priority", str(priority)]):
        sys.exit(1)
"""


def test_200_books_submitted_at_once_finish_in_priority_order(tmp_path, redis_url, start_worker, capsys):
    import redis

    from engines.espeak import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    redis.Redis.from_url(redis_url).flushall()   # nothing of another test left queued
    data = tmp_path / "data"
    env = {**os.environ, "TOMECAST_DATA": str(data), "TOMECAST_BROKER_URL": redis_url, "TOMECAST_ENGINE": "espeak",
           "TOMECAST_QA_ASR": "0", "TOMECAST_QA_REPAIR": "0", "TOMECAST_FORMAT": "wav", "TOMECAST_WATERMARK": "0",
           "PYTHONPATH": str(REPO)}
    books: dict[int, list[str]] = defaultdict(list)
    for i in range(BOOKS):
        book = tmp_path / "books" / f"book{i:03d}.txt"
        book.parent.mkdir(exist_ok=True)
        book.write_text(f"Book {i}.\n\nIt was a short day, number {i}.\n", "utf-8")
        books[i % len(LEVELS)].append(str(book))
    half = BOOKS // len(LEVELS) // 2
    groups = [(p, books[p][:half]) for p in LEVELS] + [(p, books[p][half:]) for p in reversed(LEVELS)]
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-c", _SUBMIT, json.dumps(groups)], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    jobs = r.stdout.split()
    assert len(jobs) == BOOKS
    submit_s = time.monotonic() - t0
    store = Store(data)
    priority = {j: store.spec(j).priority for j in jobs}
    assert sorted(priority.values()) == sorted(p for p, b in groups for _ in b)

    # the worker starts once every book is queued: it sees them all at once, as after a restart. Each BRPOP lists
    # the priority lists highest first (worker.app: priority queue order, 10 steps) and the worker holds one
    # unacknowledged task at a time (prefetch 1, late acks), so every follow-up a task dispatches at its book's
    # priority goes ahead of all lower-priority work already queued
    worker = start_worker(env, "gpu,cpu", "prio")   # concurrency 1 (the gpu queue): one task at a time
    t1 = time.monotonic()
    left = list(jobs)
    while left := [j for j in left if not store.state(j).final]:
        if worker.proc.poll() is not None or time.monotonic() - t1 > TIMEOUT_S:
            pytest.fail(f"{len(left)} of {BOOKS} books unfinished after {time.monotonic() - t1:.0f} s (worker exit "
                        f"{worker.proc.poll()})\n{worker.log.read_text(errors='replace')[-3000:]}")
        time.sleep(2)
    run_s = time.monotonic() - t1
    records = {j: store.state(j) for j in jobs}
    assert all(rec.state == "done" for rec in records.values()), \
        {j: rec.error for j, rec in records.items() if rec.state != "done"}

    # finished (whole seconds in the job record) and the M4B's mtime (ns: ties inside a second broken)
    finished = {j: (rec.finished, Path(rec.output).stat().st_mtime_ns) for j, rec in records.items()}
    order = sorted(jobs, key=lambda j: finished[j][1])
    by_level = {p: [finished[j] for j in jobs if priority[j] == p] for p in LEVELS}
    with capsys.disabled():
        print(f"\npriority order: {BOOKS} books submitted in {submit_s:.1f} s, done in {run_s:.0f} s by one worker "
              f"({run_s / BOOKS:.2f} s a book); finishing order of priorities: "
              f"{''.join(str(priority[j]) for j in order)}")
    for low in LEVELS[:-1]:
        high = low + 1
        assert max(f[0] for f in by_level[high]) <= min(f[0] for f in by_level[low]), (high, low)
        assert max(f[1] for f in by_level[high]) < min(f[1] for f in by_level[low]), \
            f"a priority-{low} book finished before a priority-{high} one: " \
            f"{''.join(str(priority[j]) for j in order)}"
