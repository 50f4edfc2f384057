"""Distributed QA with real parts: redis-server, a `tomecast worker --engine espeak` subprocess, `tomecast submit` and
`tomecast retry`: the synthesize task checks every chunk (the same plain function as embedded mode), a chunk that
fails QA does not fail the book, the report lies next to the M4B, and retry re-takes exactly those chunks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.store import Store

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "little-colonels-hero.txt"


def cli(env: dict[str, str], *args: str) -> str:
    r = subprocess.run([sys.executable, "-m", "worker.cli", *args], cwd=REPO, env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def wait_for(store: Store, job_id: str, check, logs: list[Path], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    tails = "\n".join(p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    pytest.fail(f"job {job_id} is {store.state(job_id).state}\n{tails}")


def test_a_worker_checks_every_chunk_and_retry_retakes_the_failed(tmp_path, redis_url, start_worker):
    from engines.espeak import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    if not CORPUS.is_file():
        pytest.skip(f"corpus book not found at {CORPUS}")
    lines = CORPUS.read_text("utf-8").splitlines()
    head = next(i for i, ln in enumerate(lines) if ln.startswith("*** START OF"))
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "CHAPTER II.")
    book = tmp_path / "hero.txt"
    book.write_text("\n".join(lines[: head + 1] + ["", ""] + lines[start: start + 16]), "utf-8")
    env = {**os.environ, "TOMECAST_DATA": str(tmp_path / "data"), "TOMECAST_BROKER_URL": redis_url,
           "TOMECAST_QA_ASR": "0", "PYTHONPATH": str(REPO)}   # a chatterbox worker: the job says espeak
    store = Store(tmp_path / "data")
    worker = start_worker(env, "gpu,cpu", "espeak")
    # an impossible level: every chunk fails the loudness check; one re-take each, no split
    job_id = cli(env, "submit", str(book), "--engine", "espeak", "--qa-min-rms-db", "0", "--qa-max-takes", "1",
                 "--no-qa-split")
    wait_for(store, job_id, lambda: store.state(job_id).state in ("done", "failed"), [worker.log])
    assert store.state(job_id).state == "done"
    manifest = store.manifest(job_id)
    assert len(manifest.qa_failed()) == len(manifest.chunks) > 0
    assert all(c.qa_attempts == 2 for c in manifest.chunks) and manifest.model_id.startswith("espeak-ng")
    assert (store.job_dir(job_id) / "qa-report.md").is_file()
    assert "chunks failed their checks" in cli(env, "status", job_id)
    assert "queued again: " in cli(env, "retry", job_id)
    wait_for(store, job_id, lambda: store.state(job_id).state == "done"
             and all(c.qa_round == 1 and c.qa_state for c in store.manifest(job_id).chunks), [worker.log])
    assert all(c.qa_state == "failed" and c.qa_attempts == 2 for c in store.manifest(job_id).chunks)
